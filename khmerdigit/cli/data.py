"""Data commands: prepare, synth."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import List

import typer

from khmerdigit import NUM_CLASSES, KhmerDigitError, defaults
from khmerdigit.cli.app import command, usage_error
from khmerdigit.cli.console import err, out, plural, track
from khmerdigit.fileio import display_path

TRAIN_MINIMUM = 10  # fewer training images of a class than this: warn


def check_split(text: str) -> str:
    """--split's callback: a bad value is a usage error (exit 2)."""
    from khmerdigit.data.dataset import parse_fractions

    try:
        parse_fractions(text)
    except KhmerDigitError as error:
        raise typer.BadParameter(str(error).removeprefix("--split "), param_hint="'--split'") from error
    return text


def split_warnings(counts: dict[str, Counter]) -> list[str]:
    """Warnings about classes a split lacks or has too few of.

    Every split should hold every class. The train split needs TRAIN_MINIMUM images of each class
    to learn it. The valid and test splits are small by design (their share of a small dataset), so
    for them only a class with less than half the split's median count is worth a warning: that is
    an imbalance, not a small split.
    """
    messages = []
    for split, counter in counts.items():
        if not sum(counter.values()):
            continue
        values = [counter[label] for label in range(NUM_CLASSES)]
        missing = [str(label) for label, n in enumerate(values) if n == 0]
        limit = TRAIN_MINIMUM if split == "train" else sorted(values)[NUM_CLASSES // 2] / 2
        small = [f"{label} ({n})" for label, n in enumerate(values) if 0 < n < limit]
        if missing:
            messages.append(f"{split}: no images of class {', '.join(missing)}")
        if small:
            messages.append(f"{split}: few images of class {', '.join(small)}"
                            + ("" if split == "train" else " compared with the other classes"))
    return messages


@command("Data")
def prepare(
    raw_dir: Path = typer.Argument(..., help="Folder of class folders 0-9 (or ០-៩), optionally under train/valid/test.",
                                   exists=True, file_okay=False, metavar="RAW_DIR"),
    out_dir: Path = typer.Option(defaults.PREPARED_DIR, "--out", "-o", help="Where the prepared dataset goes.",
                                 metavar="FOLDER"),
    split: str = typer.Option(defaults.SPLIT, "--split", help="train/valid/test percentages (the paper's 69/20/11).",
                              callback=check_split, metavar="TRAIN/VALID/TEST"),
    seed: int = typer.Option(defaults.SEED, help="Seed for the split."),
    rotations: int = typer.Option(defaults.ROTATIONS, min=0, max=89,
                                  help="Add rotated copies at 1..N degrees (the paper used 29)."),
    rotate_eval: bool = typer.Option(False, "--rotate-eval", help="Also rotate valid/test images (the paper's protocol)."),
    keep_split: bool = typer.Option(False, "--keep-split",
                                    help="Keep RAW_DIR's own train/valid/test folders instead of re-splitting."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace --out if it is a dataset prepare wrote."),
) -> None:
    """Clean, deduplicate and split a folder of labelled digit images (RAW_DIR is never modified)."""
    from khmerdigit.cli.console import split_table
    from khmerdigit.data.dataset import parse_fractions
    from khmerdigit.data.dataset import prepare as prepare_dataset

    result = prepare_dataset(raw_dir, out_dir, parse_fractions(split), seed, rotations, rotate_eval, keep_split, overwrite, track)
    out.print(split_table(result.counts))
    for reject in result.rejects:
        err.print(f"skipped {display_path(reject.path)}: {reject.reason}", markup=False, highlight=False)
    for message in split_warnings(result.counts):
        err.print(f"[yellow]warning:[/] {message}", highlight=False)
    err.print(f"{plural(len(result.duplicates), 'duplicate')} removed, {plural(len(result.rejects), 'file')} skipped "
              f"(listed in {display_path(result.out_dir / 'rejects.csv')}); "
              f"dataset written to {display_path(result.out_dir)}", markup=False, highlight=False)


@command("Data")
def synth(
    out_dir: Path = typer.Argument(..., help="New folder for OUT_DIR/0..9/*.png.", metavar="OUT_DIR"),
    per_class: int = typer.Option(defaults.SYNTH_PER_CLASS, min=1, help="Images per digit."),
    seed: int = typer.Option(defaults.SEED, help="Seed for every random choice."),
    font: List[Path] = typer.Option([], "--font", help="Extra font file with the Khmer digits (repeatable).",
                                    exists=True, dir_okay=False, metavar="FILE"),
    no_fonts: bool = typer.Option(False, "--no-fonts", help="Use only the pen-stroke model, no fonts."),
    strength: float = typer.Option(defaults.SYNTH_STRENGTH, min=0.0, max=2.0,
                                   help="Distortion strength (0: clean, 2: strongest)."),
) -> None:
    """Generate a labelled synthetic dataset from fonts and a pen-stroke model."""
    from khmerdigit.data.synth import synthesize

    if no_fonts and font:
        usage_error("--no-fonts draws no font, so --font would be ignored: give one or the other", "'--font'")
    result = synthesize(out_dir, per_class, seed, tuple(font), not no_fonts, strength, track)
    err.print(f"fonts used: {', '.join(f.name for f in result.fonts) or 'none'}", markup=False, highlight=False)
    err.print(f"samples per source: {dict(result.counts)}", markup=False, highlight=False)
    out.print(f"wrote {sum(result.counts.values())} images to {display_path(result.out_dir)}; "
              f"preview: {display_path(result.preview)}", markup=False, highlight=False)
