"""The first hour with khmerdigit (issue 18): help that says everything, an error for every mistake, output
that says what happened, pictures that explain themselves. The README's tests are in test_readme.py."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from enum import Enum
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.main import get_command

from khmerdigit import defaults
from khmerdigit.cli import app
from khmerdigit.runtime.registry import DIGITS
from tests.helpers import compose, digit_image, make_class_folders, runner

ROOT = Path(__file__).resolve().parents[1]
WIDE = {"COLUMNS": "400"}  # no help line wraps


def run(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def commands():
    group = get_command(app)
    return {"": group, **group.commands}


def help_rows(name: str) -> tuple[str, dict[str, str]]:
    """The --help text of a command, and its lines by option (or argument) name."""
    result = run(*name.split(), "--help", env=WIDE)
    assert result.exit_code == 0, result.output
    rows = {}
    for line in result.stdout.splitlines():
        match = re.match(r"│\s*(?:\*\s+)?(\S+)", line)
        if match:
            rows.setdefault(match.group(1), line)
    return result.stdout, rows


def expected_default(param) -> str | None:
    """What `[default: ...]` should say for `param`, or None if a default need not be shown."""
    if isinstance(param.show_default, str):
        return f"({param.show_default})"
    default = param.default
    if getattr(param, "is_flag", False):  # --a/--b shows the one that is on by default; a lone flag is off
        return ((param.opts if default else param.secondary_opts)[0].lstrip("-")) if param.secondary_opts else None
    if default is None or default in ([], ()):
        return None
    if isinstance(default, (list, tuple)):
        return ", ".join(str(d) for d in default)
    return str(default.value if isinstance(default, Enum) else default)


@pytest.mark.parametrize("name", [n for n in commands()])
def test_help_shows_every_option_with_its_help_default_and_choices(name):
    text, rows = help_rows(name)
    assert "<bool>" not in text and "list[" not in text and "--no-no-" not in text
    assert "{" not in text.splitlines()[1]  # usage line: RAW_DIR, not {raw_dir}
    for param in commands()[name].params:
        key = param.opts[0] if param.param_type_name == "option" else param.metavar
        assert key, f"{name}: argument {param.name} needs a metavar"
        line = rows.get(key) or rows.get(key.rstrip("."))
        assert line, f"{name} --help does not list {key}"
        flat = " ".join(line.replace("│", " ").split())
        assert param.help, f"{name} {key} has no help"
        assert " ".join(param.help.split()) in flat, f"{name} {key}: help text swallowed: {flat}"
        default = expected_default(param)
        if default is not None:
            assert f"[default: {default}]" in flat, f"{name} {key}: default not shown: {flat}"


@pytest.mark.parametrize("name, option, values", [
    ("train", "--model", defaults.DIGIT_MODELS),
    ("train", "--preprocess", defaults.PREPROCESS_METHODS),
    ("evaluate", "--split", (*defaults.SPLITS, "all")),
    ("export", "--quantize", defaults.QUANTIZATIONS),
])
def test_help_lists_the_choices(name, option, values):
    _, rows = help_rows(name)
    assert f"<{'|'.join(values)}>" in rows[option]


def test_choices_in_defaults_match_the_modules_that_define_them():
    from khmerdigit.data.dataset import SPLITS
    from khmerdigit.runtime.preprocess import METHODS
    from khmerdigit.train.architectures import digit_architectures
    from khmerdigit.train.export import QUANTIZATIONS

    assert set(defaults.DIGIT_MODELS) == set(digit_architectures())
    assert defaults.PREPROCESS_METHODS == tuple(METHODS)
    assert defaults.SPLITS == tuple(SPLITS)
    assert defaults.QUANTIZATIONS == tuple(QUANTIZATIONS)


def test_cli_defaults_come_from_defaults_py():
    group = get_command(app)
    option = {(c, p.name): p.default for c, cmd in group.commands.items() for p in cmd.params}
    assert option["train", "batch_size"] == defaults.BATCH_SIZE and option["train", "patience"] == defaults.PATIENCE
    assert option["train", "learning_rate"] == defaults.LEARNING_RATE and option["train", "seed"] == defaults.SEED
    assert option["predict", "batch_size"] == defaults.PREDICT_BATCH and option["read", "threshold"] == defaults.THRESHOLD
    assert option["synth", "per_class"] == defaults.SYNTH_PER_CLASS and option["prepare", "split"] == defaults.SPLIT
    assert option["demo", "epochs"] == defaults.DEMO_EPOCHS and option["demo", "per_class"] == defaults.DEMO_PER_CLASS


def test_top_level_help_names_every_command_and_shell_completion_works():
    text, _ = help_rows("")
    assert "read whole numbers" in text and "--install-completion" in text
    for name in ("prepare", "synth", "train", "export", "demo", "evaluate", "report", "predict", "read"):
        assert re.search(rf"│ {name}\s", text), name
    script = subprocess.run([sys.executable, "-m", "khmerdigit", "--show-completion", "bash"], capture_output=True,
                            text=True, check=False)
    assert script.returncode == 0 and "complete -o default -F _khmerdigit_completion khmerdigit" in script.stdout
    completions = subprocess.run([sys.executable, "-m", "khmerdigit"], capture_output=True, text=True, check=False, env={
        **os.environ, "_KHMERDIGIT_COMPLETE": "complete_bash", "COMP_WORDS": "khmerdigit train --model ",
        "COMP_CWORD": "3"})
    assert completions.stdout.split() == list(defaults.DIGIT_MODELS)


# Mistakes: usage errors exit 2 and name the option; empty inputs are errors naming the path.

@pytest.mark.parametrize("args, named", [
    (["predict", "x.png", "--json", "--csv"], "--json"),
    (["read", "x.png", "--debug-image", "/nonexistent/dir/x.png"], "/nonexistent/dir"),
    (["evaluate", ".", "--split", "bogus"], "'train', 'valid', 'test', 'all'"),
    (["train", "--model", "bogus"], "'paper', 'default'"),
    (["train", "--preprocess", "bogus"], "'normalized', 'paper'"),
    (["export", "-o", "x.tflite", "--quantize", "int9"], "'none', 'float16', 'dynamic', 'int8'"),
    (["prepare", ".", "--split", "1/2"], "--split"),
])
def test_usage_errors_exit_2_and_say_what_is_wrong(args, named):
    result = run(*args, env=WIDE)
    assert result.exit_code == 2, result.output
    assert named in result.stderr and "Traceback" not in result.output


def test_export_int8_without_data_names_data_and_calibration(tmp_path):
    result = run("export", "-o", tmp_path / "m.tflite", "--quantize", "int8", "--data", tmp_path / "none", env=WIDE)
    assert result.exit_code == 2
    assert "'--data'" in result.stderr and "calibrates" in result.stderr and str(tmp_path / "none") in result.stderr


@pytest.mark.parametrize("command", ["predict", "read"])
def test_inputs_without_images_are_errors_naming_the_path(tmp_path, command):
    empty, fake_png, text = tmp_path / "empty", tmp_path / "folder.png", tmp_path / "notes"
    empty.mkdir(), fake_png.mkdir(), text.mkdir()
    (text / "a.txt").write_text("not an image")
    for target in (empty, fake_png, text, tmp_path / "missing", tmp_path / "*.jpg"):
        result = run(command, target)
        assert result.exit_code == 1, (target, result.output)
        assert result.stderr.strip().count("\n") == 0 and str(target) in result.stderr, result.stderr
        assert result.stdout.strip() in ("", "[\n]"), result.stdout


def test_an_empty_folder_among_images_is_reported_and_the_rest_still_read(tmp_path):
    (tmp_path / "empty").mkdir()
    digit_image(3).save(tmp_path / "three.png")
    result = run("predict", tmp_path / "three.png", tmp_path / "empty", "--csv")
    assert result.exit_code == 1 and "empty: folder without image files" in result.stderr
    assert [row["file"] for row in csv.DictReader(io.StringIO(result.stdout))] == [str(tmp_path / "three.png")]


def test_debug_image_is_saved_and_said_so(tmp_path):
    gray, _ = compose([4, 2], [14])
    Image.fromarray(np.round(gray * 255).astype(np.uint8)).save(tmp_path / "n.png")
    result = run("read", tmp_path / "n.png", "--debug-image", tmp_path / "debug.png", "--cuts-only")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "debug.png").is_file() and f"saved {tmp_path / 'debug.png'}" in result.stderr
    header = next(line for line in result.stdout.splitlines() if line.startswith("┃ #"))
    assert re.search(r"┃ flag ┃$", header), header  # no unnamed column


@pytest.mark.parametrize("debug, traceback", [("1", True), ("", False), ("0", False)])
def test_khmerdigit_debug_shows_the_traceback_of_ordinary_errors(tmp_path, debug, traceback):
    result = subprocess.run([sys.executable, "-m", "khmerdigit", "predict", "x.png", "--model", tmp_path / "m.h5"],
                            capture_output=True, text=True, check=False, env={**os.environ, "KHMERDIGIT_DEBUG": debug})
    assert result.returncode == 1 and "only .keras and .tflite" in result.stderr
    assert ("Traceback" in result.stderr) == traceback and ("KhmerDigitError" in result.stderr) == traceback


# Output

def test_prepare_says_it_once_with_the_right_plurals_and_no_warning_for_a_small_test_split(tmp_path):
    raw = make_class_folders(tmp_path / "raw", per_class=16)
    (raw / "5" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    result = run("prepare", raw, "--out", tmp_path / "prepared")
    assert result.exit_code == 0, result.output
    assert (result.stdout + result.stderr).count("skipped") == 2  # the file's own line, and the summary
    assert "1 file skipped" in result.stderr and "duplicates removed" in result.stderr
    assert "warning" not in result.stderr  # 1 or 2 test images per class is what 11 % of 16 gives


def test_split_warnings_rule():
    from collections import Counter

    from khmerdigit.cli.data import split_warnings

    even = Counter({label: 2 for label in range(10)})
    assert split_warnings({"train": Counter({label: 30 for label in range(10)}), "test": even}) == []
    assert split_warnings({"train": Counter({**{label: 30 for label in range(9)}, 9: 4})}) == [
        "train: few images of class 9 (4)"]
    uneven = Counter({**{label: 8 for label in range(9)}, 9: 1})
    assert split_warnings({"test": uneven}) == ["test: few images of class 9 (1) compared with the other classes"]
    assert split_warnings({"valid": Counter({label: 3 for label in range(9)})}) == ["valid: no images of class 9"]


def test_predict_csv_rounds_each_probability_once(capsys):
    from khmerdigit.cli.console import PredictionWriter
    from khmerdigit.runtime.classifier import Prediction

    writer = PredictionWriter("csv", top_k=3)
    p = 0.98774951  # round(p, 6) = 0.98775 would print as 0.9878 next to 0.9877
    writer.write(Prediction("a.png", 3, p, ((3, p), (8, 0.01), (5, 0.002))))
    writer.close()
    row = next(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert row["confidence"] == "0.9877" and row["top"].split()[0] == "3:0.9877"


def fake_run(folder: Path, name: str, model: str = "default") -> Path:
    run_dir = folder / name
    run_dir.mkdir(parents=True)
    (run_dir / "args.json").write_text(json.dumps({"model": model, "data": ["data/prepared"]}))
    rows = [f"{e},{1 / e:.3f},{0.5 + e / 10:.3f},{1.2 / e:.3f},{0.45 + e / 10:.3f},0.002,1.0" for e in range(1, 5)]
    (run_dir / "history.csv").write_text("epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds\n"
                                         + "\n".join(rows) + "\n")
    return run_dir


def test_report_is_not_truncated_on_an_80_column_terminal(tmp_path):
    runs = [fake_run(tmp_path, f"a-long-run-name-{n}") for n in range(5)]
    result = run("report", *runs, "--out", tmp_path / "report", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    assert all(any(f"a-long-run-name-{n}" in line for line in result.stdout.splitlines()) for n in range(5))


def test_report_says_what_each_run_was_evaluated_on_and_warns_when_that_differs(tmp_path):
    first, second = fake_run(tmp_path / "runs", "first"), fake_run(tmp_path / "runs", "second")
    (first / "best.json").write_text(json.dumps({"epoch": 2}))  # the checkpoint train kept, not the last
    for run_dir, labels in ((first, [1, 2]), (second, [3])):
        data = make_class_folders(tmp_path / f"digits-{run_dir.name}", per_class=2, labels=labels)
        assert run("evaluate", data, "--out", run_dir / "eval-all").exit_code == 0
    result = run("report", first, second, "--out", tmp_path / "report")
    assert result.exit_code == 0 and "evaluated on different data" in result.stderr, result.output
    lines = (tmp_path / "report" / "report.md").read_text().splitlines()
    assert lines[2].startswith("**Warning:** the runs were evaluated on different data")
    assert any(line.startswith("- first:") and "val accuracy of the kept epoch 65.0%" in line
               and "digits-first, every image; 4 images" in line for line in lines), lines
    assert any(line.startswith("- second:") and "every image; 2 images" in line for line in lines), lines
    copy = tmp_path / "copy.tflite"  # another model on the same images: comparable, no warning
    for suffix in (".tflite", ".json"):
        shutil.copy(DIGITS.bundled.with_suffix(suffix), copy.with_suffix(suffix))
    assert run("evaluate", data, "--model", copy, "--out", first / "eval-all").exit_code == 0
    result = run("report", first, second, "--out", tmp_path / "report")
    assert result.exit_code == 0 and "different data" not in result.stderr, result.output
    assert "Warning" not in (tmp_path / "report" / "report.md").read_text()
    assert json.loads((tmp_path / "report" / "report.json").read_text())["warning"] is None


def test_tables_fold_rather_than_cut_on_a_narrow_terminal():
    from rich.console import Console

    from khmerdigit.cli.console import simple_table

    names = [f"a-long-run-name-{n}" for n in range(5)]
    console = Console(width=60, file=io.StringIO(), force_terminal=True, color_system=None)
    console.print(simple_table("Per-class accuracy", ["class", *names], [["0", *["100.0%"] * 5]]))
    text = console.file.getvalue()
    assert "…" not in text and all(line.startswith(("┃", "│", "┏", "┡", "└", " ")) for line in text.splitlines())
    assert text.count("100.0%") == 5


# Pictures: captured before they are saved

@pytest.fixture
def figures(monkeypatch):
    """Every matplotlib figure the plots module saves, by file name."""
    from khmerdigit.evaluate import plots

    saved = {}
    real = plots.save_figure

    def keep(figure, path):
        figure.canvas.draw()
        saved[Path(path).name] = figure
        real(figure, path)

    monkeypatch.setattr(plots, "save_figure", keep)
    return saved


def texts(figure) -> list[str]:
    found = [t.get_text() for t in figure.texts] + ([figure._suptitle.get_text()] if figure._suptitle else [])
    for axes in figure.axes:
        found += [axes.get_title(), axes.get_xlabel(), axes.get_ylabel()]
        found += [t.get_text() for t in axes.get_xticklabels() + axes.get_yticklabels()]
    return found


def test_the_figures_use_a_font_with_the_khmer_digits():
    from matplotlib import font_manager

    from khmerdigit.evaluate.plots import style
    from khmerdigit.fonts import bundled_font

    found = font_manager.findfont(font_manager.FontProperties(family=style()["font.family"]), fallback_to_default=False)
    assert Path(found) == bundled_font()


def test_evaluate_figures_name_model_data_split_and_files(tmp_path, figures):
    data = make_class_folders(tmp_path / "digits", per_class=3, labels=[1, 2])
    for n in range(3):  # mislabelled: the errors the gallery must show
        digit_image(7, 50 + n).save(data / "1" / f"seven_{n}.png")
    result = run("evaluate", data, "--out", tmp_path / "eval")
    assert result.exit_code == 0, result.output
    matrix, gallery = figures["confusion_matrix.png"], figures["misclassified.png"]
    title = " ".join(matrix.axes[0].get_title().split())
    assert "bundled model" in title and "digits" in title and "every image" in title and "accuracy" in title
    assert len(matrix.axes) == 2  # the matrix and its colour bar
    assert "៧\n7" in texts(matrix) and "៧ 7" in texts(matrix)
    captions = [axes.get_title() for axes in gallery.axes if axes.get_title()]
    assert any("seven_0.png" in c and "true ១ 1" in c for c in captions), captions
    assert "digits" in gallery._suptitle.get_text()


def test_the_error_gallery_says_when_there_are_no_errors(tmp_path, figures):
    from khmerdigit.evaluate.plots import gallery_png

    gallery_png([], [], tmp_path / "misclassified.png", "Misclassified: run x on data, test split",
                "No misclassified images: all 62 read right.")
    words = texts(figures["misclassified.png"])
    assert "No misclassified images: all 62 read right." in words and any("test split" in w for w in words)


def test_curves_have_a_title_and_the_legend_outside_the_curves(tmp_path, figures):
    runs = [fake_run(tmp_path / "runs", f"run{n}", "paper" if n % 2 else "default") for n in range(5)]
    result = run("report", *runs, "--out", tmp_path / "report")
    assert result.exit_code == 0, result.output
    figure = figures["curves.png"]
    assert "run0" in figure._suptitle.get_text()
    legend = figure.legends[0].get_window_extent()
    assert all(legend.x0 >= axes.get_window_extent().x1 for axes in figure.axes)
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert "run1: paper on data/prepared" in labels and "validation" in labels


def test_debug_image_of_a_wide_number_is_readable_and_writes_the_number(tmp_path, monkeypatch):
    from PIL import ImageDraw

    from khmerdigit.reading.debug_image import MIN_HEIGHT, draw_debug
    from khmerdigit.reading.reader import DigitReading, NumberReading
    from khmerdigit.reading.segment import Box

    gray = np.ones((40, 500), np.float32)
    digits = tuple(DigitReading(label % 10, 0.95 if label != 3 else 0.5, Box(10 + 48 * label, 5, 50 + 48 * label, 35),
                                label == 3) for label in range(10))
    reading = NumberReading("wide.png", digits, 0.9, (500, 40), line_reading="0123456780")
    drawn = []
    real_text = ImageDraw.ImageDraw.text

    def record(self, xy, text, *args, font=None, **kwargs):
        drawn.append((text, getattr(font, "size", 0)))
        return real_text(self, xy, text, *args, font=font, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", record)
    draw_debug(gray, reading, tmp_path / "debug.png")
    picture = Image.open(tmp_path / "debug.png")
    assert picture.height >= MIN_HEIGHT and picture.width >= 1000  # enlarged: 40 px high is too small to read
    title = next(text for text, _ in drawn if "0123456789" in text)
    assert "០១២៣៤៥៦៧៨៩" in title
    assert any("1 of 10 digits below 90%" in text for text, _ in drawn)
    assert any("the line reader reads 0123456780" in text for text, _ in drawn)  # why it is uncertain
    assert min(size for text, size in drawn) >= 14


# Packaging

def test_pyproject_uses_an_spdx_licence_with_a_setuptools_that_supports_it():
    pyproject = (ROOT / "pyproject.toml").read_text()  # (tomllib needs Python 3.11)
    assert re.search(r'^license = "MIT"$', pyproject, re.MULTILINE)
    minimum = re.search(r'^requires = \["setuptools>=(\d+)"\]', pyproject, re.MULTILINE)
    assert minimum and int(minimum.group(1)) >= 77  # PEP 639 licence expressions


# Training: the final line, the summary, an interruption


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    from khmerdigit.data.dataset import prepare

    root = tmp_path_factory.mktemp("usability")
    make_class_folders(root / "raw", per_class=10)
    prepare(root / "raw", root / "prepared", fractions=(0.6, 0.2, 0.2))
    return root / "prepared"


def test_training_ends_with_the_best_epoch_its_accuracy_and_the_run_folder(prepared, tmp_path):
    result = run("train", "--data", prepared, "--epochs", "2", "--batch-size", "32", "--project", tmp_path, "--name", "t")
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()
    assert len(last) == 1, result.stdout  # no Keras summary after the epochs: it is in summary.txt
    best = json.loads((tmp_path / "t" / "best.json").read_text())
    assert re.match(rf"best epoch {best['epoch']} of 2: validation accuracy \d+\.\d% .*run saved to "
                    rf"{re.escape(str(tmp_path / 't'))} ", last[0]), last[0]
    summary = (tmp_path / "t" / "summary.txt").read_text()
    assert f"Total params: {best['parameters']:,} " in summary and "Optimizer" not in summary


def test_an_interrupted_training_names_the_run_folder_to_resume(prepared, tmp_path, monkeypatch):
    from khmerdigit.cli.console import TrainProgress

    real_epoch = TrainProgress.epoch

    def stop_after_first(self, epoch, logs):
        real_epoch(self, epoch, logs)
        raise KeyboardInterrupt

    monkeypatch.setattr(TrainProgress, "epoch", stop_after_first)
    (tmp_path / "t").mkdir()  # the run goes to t-2
    result = run("train", "--data", prepared, "--epochs", "3", "--batch-size", "32", "--project", tmp_path, "--name", "t")
    assert result.exit_code == 130
    assert f"khmerdigit train --resume {tmp_path / 't-2'}" in result.stderr, result.stderr
    assert "<run folder>" not in result.stderr and (tmp_path / "t-2" / "state.json").is_file()


def test_options_that_would_be_ignored_are_refused(prepared, tmp_path):
    make_class_folders(tmp_path / "unsplit", per_class=2)
    result = run("train", "--data", tmp_path / "unsplit", "--epochs", "1", "--project", tmp_path)
    assert result.exit_code == 1 and "not split into train/ and valid/" in result.stderr, result.output
    assert "khmerdigit prepare" in result.stderr and not (tmp_path / "default").exists()
    result = run("train", "--resume", prepared, "--model", "paper", "--lr", "0.1")  # nothing is trained
    assert result.exit_code == 2 and "not --model, --lr" in " ".join(result.stderr.split()), result.output
    result = run("synth", tmp_path / "s", "--no-fonts", "--font", Path(__file__))
    assert result.exit_code == 2 and "--no-fonts" in result.stderr and not (tmp_path / "s").exists()


def test_the_demo_names_the_folder_it_really_used(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").mkdir()  # taken: the demo goes to demo-2
    result = run("demo", "--workdir", "demo", "--per-class", "5", "--epochs", "1")
    assert result.exit_code == 0, result.output
    assert "report in demo-2" in result.stdout


def test_messages_print_file_names_with_brackets_as_they_are(tmp_path):
    folder = tmp_path / "ev[/x]"  # Rich markup once swallowed '[red]' and tripped on '[/x]' with a traceback
    folder.mkdir(parents=True)
    result = run("evaluate", folder)
    assert result.exit_code == 1 and "ev[/x]" in result.stderr and "Traceback" not in result.output, result.output
    digit_image(3).save(tmp_path / "a[red].png")
    result = run("predict", tmp_path / "a[red].png", env=WIDE)
    assert result.exit_code == 0 and "a[red].png" in result.stdout, result.output
    result = run("read", tmp_path / "a[red].png", "--model", tmp_path / "m[red].tflite")
    assert result.exit_code != 0 and "m[red].tflite" in result.stderr, result.output


def test_evaluate_says_when_split_is_ignored(tmp_path):
    data = make_class_folders(tmp_path / "digits", per_class=2)
    result = run("evaluate", data, "--split", "valid", "--out", tmp_path / "eval")
    assert result.exit_code == 0 and "--split valid ignored" in result.stderr, result.output
    assert "ignored" not in run("evaluate", data, "--out", tmp_path / "eval-2").stderr
