"""Terminal output: rich progress bars (stderr) and tables (stdout)."""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from typing import Iterable, Optional, Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from khmerdigit import KHMER_GLYPHS, NUM_CLASSES, percent

out = Console(soft_wrap=True)  # data and tables
err = Console(stderr=True, soft_wrap=True)  # messages and progress; one line per message


def progress_bar() -> Progress:
    """A transient progress bar on stderr; none when stderr is not a terminal (a log or a pipe gets no bar and
    no blank line where it was)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=True,
                    disable=not err.is_terminal)


def track(items: Iterable, description: str = "Working", total: Optional[int] = None) -> Iterable:
    """Iterate with a transient progress bar on stderr."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    with progress_bar() as progress:
        yield from progress.track(items, total=total, description=description)


def plural(count: int, word: str) -> str:
    """1 file, 2 files, 0 files."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def split_table(counts: dict[str, Counter]) -> Table:
    """Images per class per split, with totals."""
    table = Table(title="Prepared dataset")
    table.add_column("class")
    for split in counts:
        table.add_column(split, justify="right")
    table.add_column("total", justify="right")
    for label in range(NUM_CLASSES):
        values = [counts[split][label] for split in counts]
        table.add_row(f"{label} {KHMER_GLYPHS[label]}", *map(str, values), str(sum(values)))
    totals = [sum(counts[split].values()) for split in counts]
    table.add_row("total", *map(str, totals), str(sum(totals)), style="bold")
    return table


def metrics_table(metrics: dict, title: str = "Per-class results") -> Table:
    """Per-class precision, recall, F1, accuracy and support; overall last."""
    table = Table(title=title)
    for name in ("class", "support", "accuracy", "precision", "recall", "F1"):
        table.add_column(name, justify="left" if name == "class" else "right")
    for row in metrics["per_class"]:
        table.add_row(f"{row['label']} {row['glyph']}", str(row["support"]), percent(row["accuracy"]),
                      percent(row["precision"]), percent(row["recall"]), percent(row["f1"]))
    table.add_row("overall", str(metrics["images"]), percent(metrics["accuracy"]), "", "",
                  percent(metrics["macro_f1"]), style="bold")
    return table


def confusion_table(matrix: Sequence[Sequence[int]]) -> Table:
    """Rows: true digit; columns: predicted digit; the diagonal in green."""
    table = Table(title="Confusion matrix (rows: true, columns: predicted)")
    table.add_column("")
    for label in range(NUM_CLASSES):
        table.add_column(str(label), justify="right")
    for label, row in enumerate(matrix):
        cells = [f"[green]{n}[/]" if i == label and n else (str(n) if n else "[dim]·[/]") for i, n in enumerate(row)]
        table.add_row(str(label), *cells)
    return table


def print_wide(renderable, width: int = 160) -> None:
    """Print a wide table: at the terminal's width on a terminal (its cells fold), else on at least `width`
    columns, so that files and pipes (benchmark logs, `report > report.txt`) get unbroken lines."""
    if out.is_terminal:
        out.print(renderable)
    else:
        Console(width=max(width, out.width), soft_wrap=True).print(renderable)


def simple_table(title: str, header: list[str], rows: list[list[str]]) -> Table:
    """A table whose first column is left-aligned and the rest right-aligned; too narrow a console folds
    its cells rather than cutting them short."""
    table = Table(title=title)
    for index, name in enumerate(header):
        table.add_column(name, justify="left" if index == 0 else "right", overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # plain text: a file or run name is no markup
    return table


class PredictionWriter:
    """Prints predictions as they come: CSV or a streamed JSON array, or a table at the end."""

    def __init__(self, style: str, top_k: int = 1):
        self.style, self.top_k, self.count, self.failed = style, top_k, 0, 0
        self.rows: list = []
        if style == "csv":
            self.csv = csv.writer(sys.stdout, lineterminator="\n")
            self.csv.writerow(["file", "glyph", "digit", "confidence", "uncertain", "top", "warning", "error"])
        elif style == "json":
            sys.stdout.write("[")

    def write(self, prediction) -> None:
        self.failed += prediction.error is not None
        if self.style == "csv":  # every probability rounded once, from the same value, so they agree
            alternatives = " ".join(f"{label}:{p:.4f}" for label, p in prediction.top)
            self.csv.writerow([prediction.source, prediction.glyph, "" if prediction.label is None else prediction.label,
                               f"{prediction.confidence:.4f}" if prediction.error is None else "",
                               "" if prediction.error else str(prediction.uncertain).lower(), alternatives,
                               prediction.warning or "", prediction.error or ""])
        elif self.style == "json":
            record = prediction.to_dict(self.top_k)
            sys.stdout.write((",\n " if self.count else "\n ") + json.dumps(record, ensure_ascii=False))
        else:
            self.rows.append(prediction)
        self.count += 1
        sys.stdout.flush()

    def close(self) -> None:
        if self.style == "json":
            sys.stdout.write("\n]\n" if self.count else "]\n")
        elif self.style == "table":
            table = Table(title="Predictions")
            for name in ("file", "glyph", "digit", "confidence", "flag") + (("top",) if self.top_k > 1 else ()):
                table.add_column(name, justify="right" if name in ("digit", "confidence") else "left", overflow="fold")
            for p in self.rows:
                if p.error:
                    continue
                extra = [", ".join(f"{KHMER_GLYPHS[label]} {prob:.1%}" for label, prob in p.top)] if self.top_k > 1 else []
                table.add_row(Text(p.source), p.glyph, str(p.label), f"{p.confidence:.1%}",
                              "uncertain" if p.uncertain else "", *extra)
            if table.row_count:  # nothing read: the errors on stderr say why
                out.print(table)
        sys.stdout.flush()


class TrainProgress:
    """Rich progress for training: one bar for epochs, one for batches, a line per epoch."""

    def __init__(self):
        self.progress = progress_bar()

    def start(self, epochs: int, initial_epoch: int, steps: int) -> None:
        self.progress.start()
        self.epochs = self.progress.add_task("Epochs", total=epochs, completed=initial_epoch)
        self.steps_per_epoch = steps
        self.batches = self.progress.add_task("Batches", total=steps)

    def batch(self) -> None:
        self.progress.advance(self.batches)

    def epoch(self, epoch: int, logs: dict) -> None:
        self.progress.advance(self.epochs)
        self.progress.reset(self.batches, total=self.steps_per_epoch)
        self.progress.console.print(
            f"epoch {epoch:3d}  loss {logs.get('loss', 0):.4f}  acc {logs.get('accuracy', 0):.2%}  "
            f"val_loss {logs.get('val_loss', 0):.4f}  val_acc {logs.get('val_accuracy', 0):.2%}  "
            f"{logs.get('seconds', 0):.1f}s", highlight=False)

    def stop(self) -> None:
        self.progress.stop()
