"""Reports built from saved run artifacts only: no training, no model loading."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from khmerdigit import NUM_CLASSES, KhmerDigitError, percent
from khmerdigit.evaluate.plots import curves_png
from khmerdigit.fileio import read_json, write_json, write_text
from khmerdigit.runs import best_epoch, read_history

# Ly Sreypov (2025), IJISRT 10(7): validation accuracy of the paper's CNN, overall and per class.
PAPER_ACCURACY = 0.951
PAPER_PER_CLASS = [1.0, 0.969, 0.936, 0.942, 0.922, 0.747, 0.992, 1.0, 1.0, 1.0]


@dataclass
class RunSummary:
    name: str
    model: str
    parameters: Optional[int]
    epochs: int
    best_val_accuracy: Optional[float]
    train_seconds: float
    evaluation: Optional[str]  # which eval folder the metrics come from
    accuracy: Optional[float]
    per_class: list[Optional[float]]
    history: list[dict]
    data: list[str] = field(default_factory=list)  # the prepared datasets it trained on
    evaluated_on: Optional[str] = None  # what that evaluation scored (model, data, split) and how many images
    evaluated_data: Optional[str] = None  # the images it scored (folder, split and count), to compare runs by

    @property
    def metrics_from(self) -> str:
        """Where the accuracies come from: 'eval-test (default on data/prepared, test split; 62 images)'."""
        if not self.evaluation:
            return "no evaluation yet"
        return self.evaluation + (f" ({self.evaluated_on})" if self.evaluated_on else "")

    @property
    def label(self) -> str:
        """How figures name the run: 'default-2: default on data/prepared'."""
        return f"{self.name}: {self.model}" + (f" on {', '.join(self.data)}" if self.data else "")


def latest_evaluation(run_dir: Path) -> Optional[Path]:
    """The run's eval-test metrics if present, else its most recent eval-* metrics."""
    candidates = sorted(run_dir.glob("eval-*/metrics.json"), key=lambda p: p.stat().st_mtime)
    preferred = [p for p in candidates if p.parent.name.startswith("eval-test")]
    return (preferred or candidates or [None])[-1]


def summarize_run(run_dir: Path) -> RunSummary:
    """Collect a run's configuration, history and latest evaluation."""
    run_dir = Path(run_dir)
    if not (run_dir / "args.json").is_file() or not (run_dir / "history.csv").is_file():
        raise KhmerDigitError(f"{run_dir} is not a training run folder (no args.json/history.csv)")
    args, history = read_json(run_dir / "args.json"), read_history(run_dir / "history.csv")
    metrics_path = latest_evaluation(run_dir)
    metrics = read_json(metrics_path) if metrics_path else None
    meta_path = run_dir / "best.json"
    best = best_epoch(run_dir, history)
    return RunSummary(
        name=run_dir.name,
        model=args.get("model", "?"),
        parameters=read_json(meta_path).get("parameters") if meta_path.is_file() else None,
        epochs=len(history),
        best_val_accuracy=best.get("val_accuracy") if best else None,
        train_seconds=sum(row.get("seconds", 0.0) for row in history),
        evaluation=metrics_path.parent.name if metrics_path else None,
        accuracy=metrics["accuracy"] if metrics else None,
        per_class=[row["accuracy"] for row in metrics["per_class"]] if metrics else [None] * NUM_CLASSES,
        history=history,
        data=[str(folder) for folder in args.get("data", [])],
        evaluated_on=f"{metrics['subject']}; {metrics['images']} images" if metrics and "subject" in metrics else None,
        evaluated_data=f"{metrics['data']}; {metrics['images']} images" if metrics and metrics.get("data") else None,
    )


def build_report(run_dirs: list[Path], out_dir: Path) -> list[RunSummary]:
    """Write curves.png, report.md and report.json comparing `run_dirs` (with the paper's figures)."""
    if not run_dirs:
        raise KhmerDigitError("no runs to report on: pass run folders, or train one first")
    summaries = [summarize_run(run) for run in run_dirs]
    out_dir.mkdir(parents=True, exist_ok=True)
    title = "Training curves: " + ", ".join(s.name for s in summaries)
    curves_png({s.label: s.history for s in summaries}, out_dir / "curves.png", title)
    write_json(out_dir / "report.json", {
        "paper": {"accuracy": PAPER_ACCURACY, "per_class": PAPER_PER_CLASS},
        "runs": [{k: v for k, v in vars(s).items() if k != "history"} for s in summaries],
        "warning": comparison_warning(summaries),
    })
    write_text(out_dir / "report.md", markdown_table(summaries))
    return summaries


def comparison_warning(summaries: list[RunSummary]) -> Optional[str]:
    """Why the runs' figures cannot be compared side by side, or None."""
    if len({s.evaluated_data for s in summaries if s.evaluated_data}) > 1:
        return ("the runs were evaluated on different data or splits (see 'metrics from'): evaluate each on the "
                "same data to compare them")
    return None


def comparison_rows(summaries: list[RunSummary]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-class comparison, the paper's published figures first."""
    header = ["class", "paper (published)"] + [s.name for s in summaries]
    rows = [[str(label), percent(PAPER_PER_CLASS[label])] + [percent(s.per_class[label]) for s in summaries]
            for label in range(NUM_CLASSES)]
    rows.append(["overall", percent(PAPER_ACCURACY)] + [percent(s.accuracy) for s in summaries])
    return header, rows


def markdown_table(summaries: list[RunSummary]) -> str:
    header, rows = comparison_rows(summaries)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    runs = [f"- {s.name}: model {s.model}, {s.parameters} parameters, {s.epochs} epochs, "
            f"{s.train_seconds:.0f} s, val accuracy of the kept epoch {percent(s.best_val_accuracy)}, "
            f"metrics from {s.metrics_from}" for s in summaries]
    warning = comparison_warning(summaries)
    return ("# khmerdigit report\n\n" + (f"**Warning:** {warning}.\n\n" if warning else "") + "\n".join(lines)
            + "\n\n" + "\n".join(runs) + "\n")
