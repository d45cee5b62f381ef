"""Reading whole handwritten numbers: segmentation, the verifier, the line reader and the reader that combines them."""
