"""Data: datasets on disk, synthetic digits (fonts and pen strokes), augmentation, composed numbers."""
