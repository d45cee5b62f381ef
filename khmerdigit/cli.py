"""The `khmerdigit` command line: parses arguments, calls the core, prints results.

Heavy modules (TensorFlow, scikit-learn, matplotlib) are imported inside the commands that need
them, so `--help` stays fast.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from pathlib import Path
from typing import List, Optional

import typer

from khmerdigit import KhmerDigitError, __version__
from khmerdigit.console import err, out, track
from khmerdigit.fileio import display_path

app = typer.Typer(
    help="Recognise handwritten Khmer digits ០-៩: prepare data, train, evaluate, predict, report.",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
)
DEBUG = bool(os.environ.get("KHMERDIGIT_DEBUG"))

ModelOption = typer.Option(None, "--model", "-m", help="A .keras or .tflite model file (default: the bundled model).",
                           dir_okay=False)
RunOption = typer.Option(None, "--run", "-r", help="A training run folder; uses its best.keras.", file_okay=False,
                         exists=True)


def fail(message: str, code: int = 1) -> None:
    """Print one line on stderr and exit."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def command(function):
    """Register a command whose expected errors become one line on stderr (traceback with KHMERDIGIT_DEBUG=1)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except KhmerDigitError as error:
            fail(str(error))
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except (typer.Exit, typer.Abort):
            raise
        except BrokenPipeError:  # stdout closed early, e.g. piped into `head`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0)
        except OSError as error:  # disk full, read-only folder, permissions
            where = f": {display_path(error.filename)}" if error.filename else ""
            fail(f"{error.strerror or error}{where}")
        except Exception as error:
            if DEBUG:
                raise
            fail(f"{type(error).__name__}: {error} (set KHMERDIGIT_DEBUG=1 for the traceback)")

    return app.command()(wrapper)


def version_callback(value: bool) -> None:
    if value:
        out.print(f"khmerdigit {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                      help="Show the version and exit.")) -> None:
    """Recognise handwritten Khmer digits ០-៩."""


@command
def prepare(
    raw_dir: Path = typer.Argument(..., help="Folder of class folders 0-9 (or ០-៩), optionally under train/valid/test.",
                                   exists=True, file_okay=False),
    out_dir: Path = typer.Option(Path("data/prepared"), "--out", "-o", help="Where the prepared dataset goes."),
    split: str = typer.Option("69/20/11", help="train/valid/test percentages (the paper's 69/20/11)."),
    seed: int = typer.Option(0, help="Seed for the split."),
    rotations: int = typer.Option(0, min=0, max=89, help="Add rotated copies at 1..N degrees (the paper used 29)."),
    rotate_eval: bool = typer.Option(False, help="Also rotate valid/test images (the paper's protocol)."),
    keep_split: bool = typer.Option(False, help="Keep RAW_DIR's own train/valid/test folders instead of re-splitting."),
    overwrite: bool = typer.Option(False, help="Replace --out if it exists."),
) -> None:
    """Clean, deduplicate and split a folder of labelled digit images (RAW_DIR is never modified)."""
    from khmerdigit.console import split_table
    from khmerdigit.dataset import class_warnings, parse_fractions
    from khmerdigit.dataset import prepare as prepare_dataset

    result = prepare_dataset(raw_dir, out_dir, parse_fractions(split), seed, rotations, rotate_eval, keep_split,
                             overwrite, track)
    out.print(split_table(result.counts, len(result.rejects), len(result.duplicates)))
    for reject in result.rejects:
        err.print(f"skipped {display_path(reject.path)}: {reject.reason}", highlight=False)
    for message in class_warnings(result.counts):
        err.print(f"[yellow]warning:[/] {message}")
    err.print(f"{len(result.duplicates)} duplicates removed, {len(result.rejects)} files skipped "
              f"(listed in {result.out_dir / 'rejects.csv'}); dataset written to {result.out_dir}")


@command
def synth(
    out_dir: Path = typer.Argument(..., help="New folder for OUT_DIR/0..9/*.png."),
    per_class: int = typer.Option(500, min=1, help="Images per digit."),
    seed: int = typer.Option(0),
    font: List[Path] = typer.Option([], help="Extra font file with Khmer digits (repeatable).", exists=True,
                                    dir_okay=False),
    no_fonts: bool = typer.Option(False, help="Use only the pen-stroke model, no fonts."),
    strength: float = typer.Option(1.0, min=0.0, max=2.0, help="Distortion strength."),
) -> None:
    """Generate a labelled synthetic dataset from fonts and a pen-stroke model."""
    from khmerdigit.synth import synthesize

    result = synthesize(out_dir, per_class, seed, tuple(font), not no_fonts, strength, track)
    err.print(f"fonts used: {', '.join(f.name for f in result.fonts) or 'none'}", highlight=False)
    err.print(f"samples per source: {dict(result.counts)}", highlight=False)
    out.print(f"wrote {sum(result.counts.values())} images to {result.out_dir}; preview: {result.preview}")


class TrainProgress:
    """Rich progress for training: one bar for epochs, one for batches, a line per epoch."""

    def __init__(self):
        from khmerdigit.console import progress_bar

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


@command
def train(
    data: List[Path] = typer.Option([Path("data/prepared")], "--data", "-d",
                                    help="Prepared dataset folder (repeat to mix sources)."),
    model: str = typer.Option("default", help="Architecture: default or paper (see models.py)."),
    epochs: Optional[int] = typer.Option(None, min=1, help="Maximum epochs [default: 40; with --resume: as saved]."),
    batch_size: int = typer.Option(64, min=1),
    learning_rate: float = typer.Option(2e-3, "--lr"),
    patience: int = typer.Option(8, min=1, help="Early-stopping patience in epochs."),
    augment: Optional[float] = typer.Option(None, min=0.0, max=2.0,
                                            help="On-the-fly augmentation strength, 0 = off [default: 1; 0 for paper]"),
    preprocess: Optional[str] = typer.Option(None, help="Override preprocessing: normalized or paper."),
    seed: int = typer.Option(0),
    project: Path = typer.Option(Path("runs"), help="Parent folder of run folders."),
    name: Optional[str] = typer.Option(None, help="Run name (default: the model name; never overwritten)."),
    resume: Optional[Path] = typer.Option(None, help="Continue an interrupted run folder.", exists=True,
                                          file_okay=False),
) -> None:
    """Train a model; writes runs/NAME with best/last checkpoints, history and config."""
    from khmerdigit.training import TrainConfig
    from khmerdigit.training import resume as resume_run
    from khmerdigit.training import train as train_model

    for folder in data:
        if resume is None and not folder.is_dir():
            fail(f"--data {folder} does not exist (run khmerdigit prepare first)")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops as cleanly as Ctrl-C
    reporter = TrainProgress()
    try:
        if resume is not None:
            run_dir = resume_run(resume, reporter, track, epochs)
        else:
            config = TrainConfig([str(d) for d in data], model, preprocess, epochs or 40, batch_size, learning_rate,
                                 patience, augment, seed, str(project), name)
            run_dir = train_model(config, reporter, track)
    except KeyboardInterrupt:
        fail("training interrupted; the last finished epoch is saved: resume with "
             f"khmerdigit train --resume {resume or '<run folder>'}", 130)
    finally:
        reporter.stop()
    out.print((run_dir / "summary.txt").read_text(encoding="utf-8"), markup=False, highlight=False)
    out.print(f"run saved to {run_dir} (best.keras, last.keras, history.csv, args.json)")


@command
def evaluate(
    data: Path = typer.Argument(Path("data/prepared"), help="Prepared dataset or folder of class folders.",
                                exists=True, file_okay=False),
    split: Optional[str] = typer.Option("test", help="Split of a prepared dataset ('all' for every image)."),
    model: Optional[Path] = ModelOption,
    run: Optional[Path] = RunOption,
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="Where to save metrics and figures."),
) -> None:
    """Accuracy, per-class metrics and confusion matrix on labelled images; saves metrics.json and PNGs."""
    from khmerdigit.console import confusion_table, metrics_table
    from khmerdigit.dataset import labelled_files
    from khmerdigit.evaluation import default_eval_dir, evaluate as evaluate_model
    from khmerdigit.predictor import load_classifier
    from khmerdigit.runs import new_run_dir

    classifier = load_classifier(model, run)
    chosen_split = None if split == "all" else split
    scan = labelled_files(data, chosen_split)
    if not scan.samples:
        fail(f"no labelled images in {data}" + (f" (split {split})" if chosen_split else ""))
    target = out_dir or new_run_dir(*default_eval_dir(run, classifier.path, chosen_split))
    result = evaluate_model(classifier, scan.samples, Path(target), track)
    out.print(metrics_table(result.metrics, f"{classifier.path.name} on {data} ({split})"))
    out.print(confusion_table(result.metrics["confusion_matrix"]))
    for reject in scan.rejects + result.skipped:
        err.print(f"skipped {display_path(reject.path)}: {reject.reason}", highlight=False)
    if result.metrics["missing_classes"]:
        err.print(f"[yellow]warning:[/] no images of class {result.metrics['missing_classes']} in this data")
    err.print(f"saved metrics.json, predictions.csv, confusion_matrix.png, misclassified.png to {result.out_dir}")


@command
def predict(
    images: List[str] = typer.Argument(..., help="Image files, folders or glob patterns."),
    model: Optional[Path] = ModelOption,
    run: Optional[Path] = RunOption,
    top_k: int = typer.Option(1, min=1, max=10, help="Show the K most likely digits."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array on stdout."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV on stdout."),
    batch_size: int = typer.Option(256, min=1),
) -> None:
    """Classify images; results on stdout, one line per unreadable file on stderr."""
    from khmerdigit.dataset import expand_image_paths
    from khmerdigit.predictor import load_classifier
    from khmerdigit.console import PredictionWriter

    if as_json and as_csv:
        fail("choose one of --json and --csv")
    classifier = load_classifier(model, run)
    paths, missing = expand_image_paths(images)
    writer = PredictionWriter("json" if as_json else "csv" if as_csv else "table", top_k)
    paths = list(paths)
    for prediction in classifier.predict(track(paths, "Predicting"), batch_size, top_k):
        writer.write(prediction)
        if prediction.error:
            err.print(f"error: {prediction.source}: {prediction.error}", highlight=False)
    writer.close()
    for pattern in missing:
        err.print(f"error: {pattern}: no such file, folder or matching images", highlight=False)
    if writer.failed or missing:
        raise typer.Exit(1)


@command
def read(
    images: List[str] = typer.Argument(..., help="Images of one handwritten number each: files, folders or globs."),
    model: Optional[Path] = ModelOption,
    run: Optional[Path] = RunOption,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array on stdout."),
    debug_image: Optional[Path] = typer.Option(None, "--debug-image", dir_okay=False,
                                               help="Save a PNG with the boxes and predictions drawn on the image "
                                                    "(with several images: PATH-<image name>.png)."),
    threshold: Optional[float] = typer.Option(None, min=0.0, max=1.0,
                                              help="Digits below this confidence are marked uncertain (default 0.9)."),
    strict: bool = typer.Option(False, help="Exit with code 2 if any digit is uncertain."),
    verifier_path: Optional[Path] = typer.Option(None, "--verifier", dir_okay=False,
                                                 help="Whole-digit verifier model (default: the bundled one)."),
    line_model: Optional[Path] = typer.Option(None, "--line-model", dir_okay=False,
                                              help="Line-reader model (default: the bundled one)."),
    use_line_reader: bool = typer.Option(True, "--line-reader/--cuts-only",
                                         help="Let the line reader count and read the digits too, or use the cuts alone."),
) -> None:
    """Read whole handwritten numbers: find the digits, classify each, print the number with confidences and boxes."""
    import json

    from rich.markup import escape

    from khmerdigit import percent
    from khmerdigit.console import simple_table
    from khmerdigit.dataset import expand_image_paths
    from khmerdigit.predictor import load_classifier
    from khmerdigit.preprocess import BadImageError
    from khmerdigit.reading import DEFAULT_THRESHOLD, draw_debug, read_number
    from khmerdigit.line_reader import load_line_reader
    from khmerdigit.verifier import load_verifier

    classifier, verifier = load_classifier(model, run), load_verifier(verifier_path)
    line_reader = load_line_reader(line_model) if use_line_reader else None
    paths, missing = expand_image_paths(images)
    paths = list(paths)
    records, failed, uncertain = [], 0, False
    for path in track(paths, "Reading"):
        try:
            reading = read_number(path, classifier, verifier, DEFAULT_THRESHOLD if threshold is None else threshold,
                                  line_reader=line_reader)
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
        if debug_image:
            target = debug_image if len(paths) == 1 else debug_image.with_name(f"{debug_image.stem}-{path.stem}.png")
            draw_debug(path, reading, target)
        if not as_json:
            rows = [[str(i), d.glyph, str(d.label), percent(d.confidence),
                     f"{d.box.left},{d.box.top},{d.box.width},{d.box.height}", "uncertain" if d.uncertain else ""]
                    for i, d in enumerate(reading.digits, 1)]
            title = f"{escape(reading.source)}: {reading.khmer}  ({reading.arabic})"
            out.print(simple_table(title, ["#", "glyph", "digit", "confidence", "box x,y,w,h", ""], rows))
    if as_json:
        sys.stdout.write("[" + ",".join("\n " + json.dumps(r, ensure_ascii=False) for r in records) + "\n]\n")
    for pattern in missing:
        err.print(f"error: {pattern}: no such file, folder or matching images", markup=False, highlight=False)
    if failed or missing:
        raise typer.Exit(1)
    if strict and uncertain:
        err.print("some digits are uncertain (--strict)")
        raise typer.Exit(2)


@command
def report(
    runs: List[Path] = typer.Argument(None, help="Run folders to compare (default: every run in ./runs)."),
    out_dir: Path = typer.Option(Path("runs/report"), "--out", "-o"),
) -> None:
    """Curves, per-class table and a comparison of runs (with the paper's figures), from saved files only."""
    from khmerdigit.console import simple_table
    from khmerdigit.report import build_report, comparison_rows

    chosen = runs or sorted(p.parent for p in Path("runs").glob("*/args.json"))
    summaries = build_report(chosen, out_dir)
    header, rows = comparison_rows(summaries)
    out.print(simple_table("Per-class accuracy (paper: published validation figures)", header, rows))
    run_rows = [[s.name, s.model, str(s.parameters), str(s.epochs), f"{s.train_seconds:.0f}",
                 f"{s.best_val_accuracy:.1%}" if s.best_val_accuracy is not None else "—", s.evaluation or "—"]
                for s in summaries]
    out.print(simple_table("Runs", ["run", "model", "parameters", "epochs", "train s", "best val acc", "metrics from"],
                           run_rows))
    err.print(f"saved curves.png, report.md, report.json to {out_dir}")


@command
def export(
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="A .keras model file.", dir_okay=False),
    run: Optional[Path] = RunOption,
    output: Path = typer.Option(..., "--output", "-o", help="The .tflite file to write (metadata goes beside it)."),
    export_format: str = typer.Option("tflite", "--format", help="Only tflite (LiteRT) for now."),
    quantize: str = typer.Option("none", help="none, float16 or int8 (int8 calibrates on --data's train split)."),
    data: Path = typer.Option(Path("data/prepared"), help="Prepared dataset for int8 calibration."),
) -> None:
    """Convert a trained model to LiteRT (.tflite) for phones, browsers and fast CPU inference."""
    from khmerdigit.export import export_tflite
    from khmerdigit.predictor import metadata_path, resolve_model

    if export_format != "tflite":
        fail(f"unknown --format {export_format!r}; only tflite is supported")
    source = resolve_model(model, run)
    if source.suffix != ".keras":
        fail("export needs a .keras model: pass --run or --model FILE.keras")
    export_tflite(source, output, quantize, data)
    out.print(f"wrote {output} ({output.stat().st_size / 1024:.0f} KiB, quantization {quantize}) "
              f"and {metadata_path(output)}")


@command
def demo(
    workdir: Path = typer.Option(Path("khmerdigit-demo"), help="Folder for the demo's data and runs."),
    per_class: int = typer.Option(150, min=5, help="Synthetic images per digit."),
    epochs: int = typer.Option(15, min=1),
) -> None:
    """The whole pipeline on built-in synthetic data: synth -> prepare -> train -> evaluate -> report."""
    from khmerdigit.demo import run_demo

    summary = run_demo(workdir, per_class, epochs, track, TrainProgress())
    from khmerdigit.console import confusion_table, metrics_table

    out.print(metrics_table(summary.metrics, "Demo: default model on the synthetic test split"))
    out.print(confusion_table(summary.metrics["confusion_matrix"]))
    out.print(f"demo finished: data, run and report in {workdir}")


if __name__ == "__main__":  # pragma: no cover
    app()
