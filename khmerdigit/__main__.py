"""`python -m khmerdigit` runs the command line."""

from khmerdigit.cli import app

app(prog_name="khmerdigit")
