"""Training commands: train, export, demo."""

from __future__ import annotations

import math
import shlex
import signal
from pathlib import Path
from typing import List, Optional

import typer

from khmerdigit import defaults
from khmerdigit.cli.app import RunOption, choices, command, fail, options_given, usage_error
from khmerdigit.cli.console import TrainProgress, out, track
from khmerdigit.fileio import display_path

DigitModel = choices("DigitModel", defaults.DIGIT_MODELS)
PreprocessMethod = choices("PreprocessMethod", defaults.PREPROCESS_METHODS)
Quantization = choices("Quantization", defaults.QUANTIZATIONS)
ExportFormat = choices("ExportFormat", ["tflite"])


def best_epoch_line(run_dir: Path) -> str:
    """One line: the best epoch (the one best.keras holds), its validation accuracy, and the run folder."""
    from khmerdigit.runs import best_epoch, read_history

    history = read_history(run_dir / "history.csv")
    best = best_epoch(run_dir, history)
    return (f"best epoch {best['epoch']:.0f} of {len(history)}: validation accuracy {best.get('val_accuracy', 0):.1%} "
            f"(loss {best.get('val_loss', math.nan):.4f}); run saved to {display_path(run_dir)} "
            "(best.keras, last.keras, history.csv, summary.txt)")


@command("Training")
def train(
    context: typer.Context,
    data: List[Path] = typer.Option([defaults.PREPARED_DIR], "--data", "-d", metavar="FOLDER",
                                    help="Prepared dataset folder (repeat to mix sources)."),
    model: DigitModel = typer.Option(defaults.MODEL, "--model", help="Architecture to train."),
    epochs: Optional[int] = typer.Option(None, min=1, help="Maximum epochs (early stopping usually ends sooner).",
                                         show_default=f"{defaults.EPOCHS}; with --resume: as saved"),
    batch_size: int = typer.Option(defaults.BATCH_SIZE, min=1, help="Images per training step."),
    learning_rate: float = typer.Option(defaults.LEARNING_RATE, "--lr",
                                        help="Adam's learning rate; halved whenever the validation loss stalls."),
    patience: int = typer.Option(defaults.PATIENCE, min=1,
                                 help="Stop after this many epochs without a lower validation loss."),
    augment: Optional[float] = typer.Option(None, min=0.0, max=2.0, help="On-the-fly augmentation strength, 0 = off.",
                                            show_default="1; 0 with the paper's preprocessing"),
    preprocess: Optional[PreprocessMethod] = typer.Option(None, "--preprocess", help="Override the preprocessing.",
                                                          show_default="the architecture's own"),
    seed: int = typer.Option(defaults.SEED, help="Seed for weights, shuffling and augmentation."),
    project: Path = typer.Option(defaults.RUNS_DIR, help="Parent folder of run folders.", metavar="FOLDER"),
    name: Optional[str] = typer.Option(None, help="Run folder name; a taken name gets -2, -3 ...", metavar="NAME",
                                       show_default="the model name"),
    resume: Optional[Path] = typer.Option(None, help="Continue an interrupted run folder.", exists=True,
                                          file_okay=False, metavar="RUN"),
) -> None:
    """Train a model; writes runs/NAME with best/last checkpoints, history and config."""
    from khmerdigit.train.trainer import TrainConfig, TrainingInterrupted, request_stop
    from khmerdigit.train.trainer import resume as resume_run
    from khmerdigit.train.trainer import train as train_model

    ignored = options_given(context, "resume", "epochs") if resume is not None else []
    if ignored:
        usage_error(f"a resumed run keeps the settings it was saved with; only --epochs may be given with it, "
                    f"not {', '.join(ignored)}", "'--resume'")
    for folder in data:
        if resume is None and not folder.is_dir():
            fail(f"--data {display_path(folder)} does not exist (run khmerdigit prepare first)")
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # SIGTERM stops as cleanly as Ctrl-C
        signal.signal(stop_signal, request_stop)
    reporter = TrainProgress()
    try:
        if resume is not None:
            run_dir = resume_run(resume, reporter, track, epochs)
        else:
            config = TrainConfig([str(d) for d in data], model.value, preprocess.value if preprocess else None,
                                 epochs or defaults.EPOCHS, batch_size, learning_rate, patience, augment, seed,
                                 str(project), name)
            run_dir = train_model(config, reporter, track)
    except TrainingInterrupted as interrupt:
        where = display_path(interrupt.run_dir)
        if (interrupt.run_dir / "state.json").is_file():
            fail(f"training interrupted; the last finished epoch is saved: resume with "
                 f"khmerdigit train --resume {shlex.quote(where)}", 130)
        fail(f"training interrupted before its first epoch ended; nothing to resume in {where}", 130)
    except KeyboardInterrupt:
        fail("training interrupted before it started; nothing saved", 130)
    finally:
        reporter.stop()
    out.print(best_epoch_line(run_dir), markup=False, highlight=False)


@command("Training")
def export(
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="A .keras model file (or use --run).",
                                         dir_okay=False, metavar="FILE"),
    run: Optional[Path] = RunOption,
    output: Path = typer.Option(..., "--output", "-o", help="The .tflite file to write (metadata goes beside it).",
                                metavar="FILE"),
    export_format: ExportFormat = typer.Option("tflite", "--format", help="Only LiteRT (.tflite) for now."),
    quantize: Quantization = typer.Option(defaults.QUANTIZE, "--quantize",
                                          help="Weights as float32 (none), float16, int8 with float activations (dynamic), "
                                               "or int8 throughout (calibrated on --data)."),
    data: Path = typer.Option(defaults.PREPARED_DIR, help="Prepared dataset whose train split calibrates int8.",
                              metavar="FOLDER"),
) -> None:
    """Convert a trained model to LiteRT (.tflite) for phones, browsers and fast CPU inference."""
    if quantize.value == "int8" and not data.is_dir():
        usage_error(f"{display_path(data)} is not a folder: --quantize int8 calibrates on the train split of a "
                    "prepared dataset; name one with --data", "'--data'")
    from khmerdigit.runtime.classifier import resolve_model
    from khmerdigit.runtime.registry import metadata_path
    from khmerdigit.train.export import export_tflite

    source = resolve_model(model, run)
    if source.suffix != ".keras":
        fail("export needs a .keras model: pass --run RUN or --model FILE.keras")
    export_tflite(source, output, quantize.value, data)
    out.print(f"wrote {display_path(output)} ({output.stat().st_size / 1024:.0f} KiB, quantization {quantize.value}) "
              f"and {display_path(metadata_path(output))}", markup=False, highlight=False)


@command("Training")
def demo(
    workdir: Path = typer.Option(defaults.DEMO_DIR, help="Folder for the demo's data and runs (a taken name gets -2).",
                                 metavar="FOLDER"),
    per_class: int = typer.Option(defaults.DEMO_PER_CLASS, min=5, help="Synthetic images per digit."),
    epochs: int = typer.Option(defaults.DEMO_EPOCHS, min=1, help="Training epochs."),
) -> None:
    """The whole pipeline on built-in synthetic data: synth -> prepare -> train -> evaluate -> report."""
    from khmerdigit.cli.console import confusion_table, metrics_table
    from khmerdigit.demo import run_demo

    summary = run_demo(workdir, per_class, epochs, track, TrainProgress())
    out.print(metrics_table(summary.metrics, "Demo: default model on the synthetic test split"))
    out.print(confusion_table(summary.metrics["confusion_matrix"]))
    out.print(f"demo finished: data, run and report in {display_path(summary.workdir)}", markup=False, highlight=False)
