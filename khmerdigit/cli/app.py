"""The Typer app, its error handling, its help formatting and the options several commands share.

Commands live in one module per group (`data`, `training`, `evaluation`, `inference`); heavy
modules (TensorFlow, scikit-learn, matplotlib) are imported inside the commands that need them,
so `--help` stays fast.
"""

from __future__ import annotations

import functools
import os
import sys
from enum import Enum
from typing import Iterable

import typer
from rich.markup import escape
from typer.core import TyperArgument, TyperCommand, TyperGroup

from khmerdigit import KhmerDigitError, __version__
from khmerdigit.cli.console import err, out
from khmerdigit.fileio import display_path

HELP = ("Recognise handwritten Khmer digits ០-៩: prepare data, train and evaluate models, predict single digits "
        "and read whole numbers.")


class NamedArgument(TyperArgument):
    """An argument shown by its name alone (IMAGES...), without a Python type such as <list[str]>."""

    def display_type_rich(self, ctx) -> None:
        return None


def tidy_params(params: list) -> list:
    """Flags take no value: show no metavar (Typer would show <bool>); a repeatable option shows its name
    (CORS_ORIGIN, not <list[str]>) unless it sets a metavar; arguments show only their name."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        elif getattr(param, "multiple", False) and param.metavar is None:
            param.metavar = param.name.upper()
        if type(param) is TyperArgument:
            param.__class__ = NamedArgument
    return params


class Command(TyperCommand):
    """A command whose usage line and help show metavars (RAW_DIR, [DATA], IMAGES...), not Python types."""

    def get_params(self, ctx) -> list:
        return tidy_params(super().get_params(ctx))

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = (param.metavar or param.name).upper()
                name += "..." if param.nargs != 1 and not name.endswith("...") else ""
                pieces.append(name if param.required else f"[{name}]")
        return pieces


class Group(TyperGroup):
    """The top-level command: its options (--version, --install-completion) without <bool> metavars."""

    def get_params(self, ctx) -> list:
        return tidy_params(super().get_params(ctx))


app = typer.Typer(cls=Group, help=HELP, no_args_is_help=True, pretty_exceptions_enable=False, add_completion=True,
                  rich_markup_mode="rich")


def choices(name: str, values: Iterable[str]) -> type[Enum]:
    """A string Enum of `values`: Typer lists them in --help, completes them and rejects others (exit 2)."""
    return Enum(name, {value: value for value in values}, type=str)


ModelOption = typer.Option(None, "--model", "-m", help="A .keras or .tflite digit model file.",
                           show_default="the bundled model", dir_okay=False, metavar="FILE")
RunOption = typer.Option(None, "--run", "-r", help="A training run folder; uses its best.keras.", file_okay=False,
                         exists=True, metavar="RUN")


def debug() -> bool:
    """KHMERDIGIT_DEBUG=1 (any value but empty or 0): show tracebacks instead of one-line errors."""
    return os.environ.get("KHMERDIGIT_DEBUG", "") not in ("", "0")


def fail(message: str, code: int = 1) -> None:
    """Print one line on stderr and exit."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def usage_error(message: str, option: str) -> None:
    """A mistake in the command line itself: usage, the message naming `option`, exit code 2."""
    raise typer.BadParameter(message, param_hint=option)


def options_given(context: typer.Context, *ignored: str) -> list[str]:
    """The options of the running command given on the command line, but those named in `ignored`."""
    return [param.opts[0] for param in context.command.params if param.name not in ignored
            and getattr(context.get_parameter_source(param.name), "name", None) == "COMMANDLINE"]


def command(panel: str):
    """Register a command under a help `panel`; its expected errors become one line on stderr."""
    return functools.partial(register_command, panel=panel)


def register_command(function, panel: str):
    """Wrap `function` so that errors print one line (traceback with KHMERDIGIT_DEBUG=1), and add it to the app."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except BrokenPipeError:  # stdout closed early, e.g. piped into `head`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0)
        except Exception as error:
            if debug():
                raise
            if isinstance(error, KhmerDigitError):
                fail(str(error))
            if isinstance(error, OSError):  # disk full, read-only folder, permissions
                where = f": {display_path(error.filename)}" if error.filename else ""
                fail(f"{error.strerror or error}{where}")
            fail(f"{type(error).__name__}: {error} (set KHMERDIGIT_DEBUG=1 for the traceback)")

    return app.command(cls=Command, rich_help_panel=panel)(wrapper)


def version_callback(value: bool) -> None:
    if value:
        out.print(f"khmerdigit {__version__}")
        raise typer.Exit()


@app.callback(help=HELP)
def main(version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                      help="Show the version and exit.")) -> None:
    pass
