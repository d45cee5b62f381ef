"""Training (imports TensorFlow): architectures, the trainers, the reader models' examples, export to LiteRT."""
