"""The `khmerdigit` command line: thin commands that parse arguments, call the core and print."""

# Imported in the order --help lists their panels: data, training, evaluation, inference, serving.
from khmerdigit.cli import data, training, evaluation, inference, serve  # noqa: F401,I001  (registers the commands)
from khmerdigit.cli.app import app

__all__ = ["app"]
