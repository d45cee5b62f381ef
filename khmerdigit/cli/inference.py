"""Inference commands: predict, read."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from khmerdigit import defaults
from khmerdigit.cli.app import ModelOption, RunOption, command, usage_error
from khmerdigit.cli.console import err, out, track
from khmerdigit.fileio import display_path


def report_unmatched(unmatched: list[str]) -> None:
    """One error line for each argument that named no image."""
    from khmerdigit.fileio import no_images_reason

    for pattern in unmatched:
        err.print(f"error: {display_path(pattern)}: {no_images_reason(pattern)}", markup=False, highlight=False)


def png_in_existing_folder(path: Optional[Path]) -> Optional[Path]:
    """A PNG output file's callback: named .png (its name says what it holds), in a folder that exists (a
    typo should not create folders)."""
    if path is not None and path.suffix.lower() != ".png":
        raise typer.BadParameter(f"{display_path(path)}: the picture is a PNG; name it FILE.png")
    if path is not None and not path.parent.is_dir():
        raise typer.BadParameter(f"folder {display_path(path.parent)} does not exist")
    return path


@command("Inference")
def predict(
    images: List[str] = typer.Argument(..., help="Image files, folders or glob patterns; one digit per image.",
                                       metavar="IMAGE..."),
    model: Optional[Path] = ModelOption,
    run: Optional[Path] = RunOption,
    top_k: int = typer.Option(defaults.TOP_K, min=1, max=10, help="Show the K most likely digits."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array on stdout."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV on stdout."),
    batch_size: int = typer.Option(defaults.PREDICT_BATCH, min=1, help="Images per model call."),
    threshold: float = typer.Option(defaults.THRESHOLD, min=0.0, max=1.0,
                                    help="A digit read with less confidence than this is marked uncertain."),
    strict: bool = typer.Option(False, "--strict", help="Exit with code 2 if any digit read is uncertain."),
) -> None:
    """Classify images of single digits (for a whole number, use read); one line per unreadable file on stderr."""
    from khmerdigit.cli.console import PredictionWriter
    from khmerdigit.fileio import expand_image_paths
    from khmerdigit.runtime.classifier import load_classifier

    if as_json and as_csv:
        usage_error("choose one of --json and --csv", "'--json' / '--csv'")
    classifier = load_classifier(model, run)
    paths, missing = expand_image_paths(images)
    writer = PredictionWriter("json" if as_json else "csv" if as_csv else "table", top_k)
    paths = list(paths)
    uncertain = False
    for prediction in classifier.predict(track(paths, "Predicting"), batch_size, top_k, threshold):
        writer.write(prediction)
        uncertain |= prediction.uncertain
        if prediction.error:
            err.print(f"error: {prediction.source}: {prediction.error}", markup=False, highlight=False)
        elif prediction.warning:
            err.print(f"warning: {prediction.source}: {prediction.warning}", markup=False, highlight=False)
    writer.close()
    report_unmatched(missing)
    if writer.failed or missing:
        raise typer.Exit(1)
    if strict and uncertain:
        err.print("some digits are uncertain (--strict)")
        raise typer.Exit(2)


def debug_targets(paths: list[Path], debug_image: Path) -> list[Path]:
    """Where each image's debug picture goes: FILE.png for one image; FILE-IMAGENAME.png for several, numbered
    when two images share a name."""
    if len(paths) == 1:
        return [debug_image]
    targets: list[Path] = []
    for path in paths:
        target, copy = debug_image.with_name(f"{debug_image.stem}-{path.stem}.png"), 2
        while target in targets:
            target, copy = debug_image.with_name(f"{debug_image.stem}-{path.stem}-{copy}.png"), copy + 1
        targets.append(target)
    return targets


@command("Inference")
def read(
    images: List[str] = typer.Argument(..., help="Images of one handwritten number each: files, folders or globs.",
                                       metavar="IMAGE..."),
    model: Optional[Path] = ModelOption,
    run: Optional[Path] = RunOption,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array on stdout."),
    debug_image: Optional[Path] = typer.Option(None, "--debug-image", dir_okay=False, metavar="FILE.png",
                                               callback=png_in_existing_folder,
                                               help="Save a PNG with the boxes and the number read drawn on the "
                                                    "image (with several images: FILE-IMAGENAME.png); never over "
                                                    "an input image."),
    threshold: float = typer.Option(defaults.THRESHOLD, min=0.0, max=1.0,
                                    help="A digit, or a number (the product of its digits' confidences), below this "
                                         "confidence is marked uncertain."),
    strict: bool = typer.Option(False, "--strict", help="Exit with code 2 if any number read is uncertain."),
    verifier_path: Optional[Path] = typer.Option(None, "--verifier", dir_okay=False, metavar="FILE",
                                                 help="Whole-digit verifier model.", show_default="the bundled one"),
    line_model: Optional[Path] = typer.Option(None, "--line-model", dir_okay=False, metavar="FILE",
                                              help="Line-reader model.", show_default="the bundled one"),
    use_line_reader: bool = typer.Option(True, "--line-reader/--cuts-only",
                                         help="Let the line reader count and read the digits too, or use the cuts alone."),
) -> None:
    """Read whole handwritten numbers: find the digits, classify each, print the number with confidences and boxes."""
    import json

    from rich.markup import escape

    from khmerdigit import percent
    from khmerdigit.cli.console import simple_table
    from khmerdigit.fileio import expand_image_paths
    from khmerdigit.reading.debug_image import draw_debug
    from khmerdigit.reading.reader import load_number_reader
    from khmerdigit.runtime.preprocess import BadImageError

    reader = load_number_reader(model, run, verifier_path, line_model, use_line_reader, threshold)
    paths, missing = expand_image_paths(images)
    paths = list(paths)
    targets = debug_targets(paths, debug_image) if debug_image else [None] * len(paths)
    inputs = {path.resolve() for path in paths}
    for target in targets:
        if target is not None and target.resolve() in inputs:
            usage_error(f"the debug image {display_path(target)} would overwrite an input image", "'--debug-image'")
    records, failed, uncertain = [], 0, False
    for path, target in zip(track(paths, "Reading"), targets):
        try:
            reading = reader.read(path)
        except BadImageError as error:
            problem = str(error)
        else:
            problem = None if reading.digits else "no digits found"
        if problem:
            failed += 1
            err.print(f"error: {display_path(path)}: {problem}", markup=False, highlight=False)
            records.append({"file": display_path(path), "error": problem})
            continue
        uncertain |= reading.uncertain
        records.append(reading.to_dict())
        if reading.warning:
            err.print(f"warning: {reading.source}: {reading.warning}", markup=False, highlight=False)
        if target is not None:
            draw_debug(path, reading, target)
            err.print(f"saved {display_path(target)}", markup=False, highlight=False)
        if not as_json:
            rows = [[str(i), d.glyph, str(d.label), percent(d.confidence),
                     f"{d.box.left},{d.box.top},{d.box.width},{d.box.height}", "uncertain" if d.uncertain else ""]
                    for i, d in enumerate(reading.digits, 1)]
            title = (f"{escape(reading.source)}: {reading.khmer}  ({reading.arabic}), {percent(reading.confidence)} "
                     "confident" + (", uncertain" if reading.uncertain else "")
                     + (f" (the line reader reads {reading.line_reading or 'no digit'})" if reading.line_disagrees
                        else ""))
            out.print(simple_table(title, ["#", "glyph", "digit", "confidence", "box x,y,w,h", "flag"], rows))
    if as_json:
        sys.stdout.write("[" + ",".join("\n " + json.dumps(r, ensure_ascii=False) for r in records) + "\n]\n")
    report_unmatched(missing)
    if failed or missing:
        raise typer.Exit(1)
    if strict and uncertain:
        err.print("some numbers are uncertain (--strict)")
        raise typer.Exit(2)
