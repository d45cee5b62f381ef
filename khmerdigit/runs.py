"""Run folders: naming that never overwrites, and the per-epoch history file."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Optional

from khmerdigit.fileio import read_json, write_text

HISTORY_FIELDS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"]


def new_run_dir(parent: Path, name: str) -> Path:
    """parent/NAME, or NAME-2, NAME-3 ... if taken: never overwrite an older run."""
    candidate, number = Path(parent) / name, 1
    while candidate.exists():
        number += 1
        candidate = Path(parent) / f"{name}-{number}"
    candidate.mkdir(parents=True)
    return candidate


def write_history(path: Path, history: list[dict]) -> None:
    """Write one CSV row per epoch, atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, HISTORY_FIELDS)
    writer.writeheader()
    writer.writerows(history)
    write_text(path, buffer.getvalue())


def read_history(path: Path) -> list[dict]:
    """The per-epoch rows of history.csv, as numbers (the epoch a whole number)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [{k: int(float(v)) if k == "epoch" else float(v) for k, v in row.items() if v not in ("", None)}
                for row in csv.DictReader(handle)]


def best_epoch(run_dir: Path, history: list[dict]) -> Optional[dict]:
    """The history row of the epoch best.keras holds (best.json says which; else the lowest val_loss)."""
    saved = read_json(run_dir / "best.json").get("epoch") if (run_dir / "best.json").is_file() else None
    best = next((row for row in history if row.get("epoch") == saved), None)
    return best or min(history, key=lambda row: row.get("val_loss", math.inf), default=None)
