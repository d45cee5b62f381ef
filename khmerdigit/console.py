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

from khmerdigit import KHMER_GLYPHS, NUM_CLASSES, percent

out = Console(soft_wrap=True)  # data and tables
err = Console(stderr=True, soft_wrap=True)  # messages and progress; one line per message


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=True)


def track(items: Iterable, description: str = "Working", total: Optional[int] = None) -> Iterable:
    """Iterate with a transient progress bar on stderr."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    with progress_bar() as progress:
        yield from progress.track(items, total=total, description=description)


def split_table(counts: dict[str, Counter], skipped: int, duplicates: int) -> Table:
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
    table.caption = f"skipped {skipped} unreadable/unusable files, removed {duplicates} duplicates"
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
    """Print on at least `width` columns, also when the output is a file (benchmark logs)."""
    Console(width=max(width, out.width), soft_wrap=True).print(renderable)


def simple_table(title: str, header: list[str], rows: list[list[str]]) -> Table:
    """A table whose first column is left-aligned and the rest right-aligned."""
    table = Table(title=title)
    for index, name in enumerate(header):
        table.add_column(name, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table


class PredictionWriter:
    """Prints predictions as they come: CSV or a streamed JSON array, or a table at the end."""

    def __init__(self, style: str, top_k: int = 1):
        self.style, self.top_k, self.count, self.failed = style, top_k, 0, 0
        self.rows: list = []
        if style == "csv":
            self.csv = csv.writer(sys.stdout, lineterminator="\n")
            self.csv.writerow(["file", "glyph", "digit", "confidence", "top", "error"])
        elif style == "json":
            sys.stdout.write("[")

    def write(self, prediction) -> None:
        self.failed += prediction.error is not None
        top = [{"digit": label, "glyph": KHMER_GLYPHS[label], "confidence": round(p, 6)} for label, p in prediction.top]
        if self.style == "csv":
            alternatives = " ".join(f"{item['digit']}:{item['confidence']:.4f}" for item in top)
            self.csv.writerow([prediction.source, prediction.glyph, "" if prediction.label is None else prediction.label,
                               f"{prediction.confidence:.4f}" if prediction.error is None else "", alternatives,
                               prediction.error or ""])
        elif self.style == "json":
            record = {"file": prediction.source, "digit": prediction.label, "glyph": prediction.glyph or None,
                      "confidence": round(prediction.confidence, 6) if prediction.error is None else None}
            if self.top_k > 1:
                record["top"] = top
            if prediction.error:
                record["error"] = prediction.error
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
            for name in ("file", "glyph", "digit", "confidence") + (("top",) if self.top_k > 1 else ()):
                table.add_column(name, justify="right" if name in ("digit", "confidence") else "left", overflow="fold")
            for p in self.rows:
                if p.error:
                    continue
                extra = [", ".join(f"{KHMER_GLYPHS[label]} {prob:.1%}" for label, prob in p.top)] if self.top_k > 1 else []
                table.add_row(p.source, p.glyph, str(p.label), f"{p.confidence:.1%}", *extra)
            out.print(table)
        sys.stdout.flush()
