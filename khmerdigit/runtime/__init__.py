"""What runs at prediction time, without TensorFlow: preprocessing, the network registry, runners, the digit classifier."""
