"""The fuzz corpus (bad and odd inputs) and the harness that feeds it to the CLI: used by tests/fuzz and benchmarks."""
