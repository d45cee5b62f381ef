"""Evaluation commands: evaluate, report."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from khmerdigit import defaults
from khmerdigit.cli.app import ModelOption, RunOption, choices, command, fail, options_given
from khmerdigit.cli.console import err, out, print_wide, track
from khmerdigit.fileio import display_path

Split = choices("Split", [*defaults.SPLITS, "all"])


def short_path(path: Path, parts: int = 2) -> str:
    """The last `parts` components of a long path (for titles): /work/shared/data/real -> data/real."""
    text = display_path(path)
    return text if len(Path(path).parts) <= parts else display_path(Path(*Path(path).parts[-parts:]))


def model_name(classifier, run: Optional[Path]) -> str:
    """What a title calls the model: the run, the bundled model, or the file."""
    from khmerdigit.runtime.registry import BUNDLED_MODEL

    if run is not None:
        return f"run {short_path(run, 1)}"
    if classifier.path.resolve() == BUNDLED_MODEL.resolve():
        return f"bundled model ({classifier.path.name})"
    return short_path(classifier.path)


@command("Evaluation")
def evaluate(
    context: typer.Context,
    data: Path = typer.Argument(defaults.PREPARED_DIR, help="Prepared dataset or folder of class folders.",
                                exists=True, file_okay=False, metavar="DATA"),
    split: Split = typer.Option(defaults.EVAL_SPLIT, "--split",
                                help="Split of a prepared dataset (all: every image; ignored for a plain folder)."),
    model: Optional[Path] = ModelOption,
    run: Optional[Path] = RunOption,
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="Where to save metrics and figures.",
                                           show_default="RUN/eval-SPLIT, or runs/evaluate/MODEL-SPLIT",
                                           metavar="FOLDER"),
) -> None:
    """Accuracy, per-class metrics and confusion matrix on labelled images; saves metrics.json and PNGs."""
    from rich.markup import escape

    from khmerdigit.cli.console import confusion_table, metrics_table
    from khmerdigit.data.dataset import is_prepared, labelled_files
    from khmerdigit.evaluate.metrics import default_eval_dir
    from khmerdigit.evaluate.metrics import evaluate as evaluate_model
    from khmerdigit.runs import new_run_dir
    from khmerdigit.runtime.classifier import load_classifier

    classifier = load_classifier(model, run)
    chosen_split = None if split.value == "all" else split.value
    scan = labelled_files(data, chosen_split)
    if not (is_prepared(data) or any(sample.split for sample in scan.samples)):  # class folders: every image
        if chosen_split and "--split" in options_given(context):
            err.print(f"warning: --split {chosen_split} ignored: {display_path(data)} has no splits, so every image "
                      "is evaluated", markup=False, highlight=False)
        chosen_split = None
    if not scan.samples:
        fail(f"no labelled images in {display_path(data)}" + (f" (split {chosen_split})" if chosen_split else ""))
    target = out_dir or new_run_dir(*default_eval_dir(run, classifier.path, chosen_split))
    part = f"{chosen_split} split" if chosen_split else "every image"
    subject = f"{model_name(classifier, run)} on {short_path(data)}, {part}"
    result = evaluate_model(classifier, scan.samples, Path(target), track, subject=subject,
                            data=f"{Path(data).resolve()}, {part}")
    out.print(metrics_table(result.metrics, escape(subject)))
    out.print(confusion_table(result.metrics["confusion_matrix"]))
    for reject in scan.rejects + result.skipped:
        err.print(f"skipped {display_path(reject.path)}: {reject.reason}", markup=False, highlight=False)
    if result.metrics["missing_classes"]:
        err.print(f"[yellow]warning:[/] no images of class {result.metrics['missing_classes']} in this data")
    err.print(f"saved metrics.json, predictions.csv, confusion_matrix.png, misclassified.png to "
              f"{display_path(result.out_dir)}", markup=False, highlight=False)


@command("Evaluation")
def report(
    runs: List[Path] = typer.Argument(None, help="Run folders to compare.", metavar="RUN...",
                                      show_default="every run in ./runs"),
    out_dir: Path = typer.Option(defaults.REPORT_DIR, "--out", "-o", help="Where to save the report.",
                                 metavar="FOLDER"),
) -> None:
    """Curves, per-class table and a comparison of runs (with the paper's figures), from saved files only."""
    from khmerdigit.cli.console import simple_table
    from khmerdigit.evaluate.report import build_report, comparison_rows, comparison_warning

    chosen = runs or sorted(p.parent for p in defaults.RUNS_DIR.glob("*/args.json"))
    summaries = build_report(chosen, out_dir)
    header, rows = comparison_rows(summaries)
    print_wide(simple_table("Per-class accuracy (paper: published validation figures)", header, rows))
    run_rows = [[s.name, s.model, "—" if s.parameters is None else f"{s.parameters:,}", str(s.epochs), f"{s.train_seconds:.0f}",
                 f"{s.best_val_accuracy:.1%}" if s.best_val_accuracy is not None else "—", s.metrics_from]
                for s in summaries]
    print_wide(simple_table("Runs", ["run", "model", "parameters", "epochs", "train s", "val acc (kept epoch)", "metrics from"],
                            run_rows))
    warning = comparison_warning(summaries)
    if warning:
        err.print(f"warning: {warning}", markup=False, highlight=False)
    err.print(f"saved curves.png, report.md, report.json to {display_path(out_dir)}", markup=False, highlight=False)
