import csv
import io
import json
import subprocess
import sys

import pytest

from tests.helpers import digit_image, make_class_folders, run, tree_hashes


@pytest.mark.parametrize("command", ["", "prepare", "synth", "train", "export", "demo", "evaluate", "report", "predict",
                                     "read"])
def test_help_does_not_import_tensorflow(command):
    code = ("import sys\nfrom khmerdigit.cli import app\n"
            f"sys.argv = ['khmerdigit', *{command.split()!r}, '--help']\n"
            "try:\n    app()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "print('TF' if any(m.startswith(('tensorflow', 'keras')) for m in sys.modules) else 'clean')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().endswith("clean")


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and "khmerdigit 0." in result.stdout


def test_full_pipeline_through_the_cli(tmp_path):
    raw = make_class_folders(tmp_path / "raw", per_class=8)
    (raw / "5" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    before = tree_hashes(raw)

    result = run("prepare", raw, "--out", tmp_path / "prepared", "--split", "60/20/20")
    assert result.exit_code == 0, result.output
    assert "total" in result.stdout and "broken.png" in result.stderr
    assert tree_hashes(raw) == before

    taken = tmp_path / "runs" / "tiny"
    taken.mkdir(parents=True)
    (taken / "notes.txt").write_text("an older run")
    result = run("train", "--data", tmp_path / "prepared", "--epochs", "1", "--batch-size", "32",
                 "--project", tmp_path / "runs", "--name", "tiny")
    assert result.exit_code == 0, result.output
    assert (taken / "notes.txt").read_text() == "an older run" and not (taken / "best.keras").exists()  # never overwritten
    run_dir = tmp_path / "runs" / "tiny-2"
    for name in ("best.keras", "best.json", "last.keras", "history.csv", "args.json", "summary.txt"):
        assert (run_dir / name).is_file(), name

    result = run("evaluate", tmp_path / "prepared", "--run", run_dir)
    assert result.exit_code == 0, result.output
    assert "Confusion matrix" in result.stdout and "overall" in result.stdout
    metrics = json.loads((run_dir / "eval-test" / "metrics.json").read_text())
    assert metrics["images"] == 20 and len(metrics["per_class"]) == 10
    assert (run_dir / "eval-test" / "confusion_matrix.png").stat().st_size > 1000
    assert (run_dir / "eval-test" / "misclassified.png").is_file()

    images = tmp_path / "images"
    images.mkdir()
    for label in (1, 2):
        digit_image(label, 77).save(images / f"d{label}.png")
    (images / "bad.png").write_text("nope")
    result = run("predict", images, "--run", run_dir, "--json", "--top-k", "3")
    assert result.exit_code == 1  # the user must know one file failed
    records = json.loads(result.stdout)
    assert [r["file"].rsplit("/", 1)[-1] for r in records] == ["bad.png", "d1.png", "d2.png"]
    assert "error" in records[0] and len(records[1]["top"]) == 3
    assert records[1]["glyph"] in "០១២៣៤៥៦៧៨៩" and 0 <= records[1]["confidence"] <= 1
    assert "bad.png" in result.stderr

    result = run("predict", images / "d1.png", str(images / "*.png"), "--run", run_dir, "--csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 4 and rows[0]["digit"].isdigit()

    result = run("report", run_dir, "--out", tmp_path / "report")
    assert result.exit_code == 0, result.output
    assert "paper (published)" in result.stdout and "95.1%" in result.stdout
    assert (tmp_path / "report" / "curves.png").is_file() and (tmp_path / "report" / "report.md").is_file()


def test_bad_input_is_one_line_on_stderr(tmp_path):
    fake = tmp_path / "model.keras"
    fake.write_text("not a model")
    result = run("predict", "whatever.png", "--model", fake)
    assert result.exit_code == 1
    assert "error:" in result.stderr and "Traceback" not in result.output
    result = run("predict", "x.png", "--model", tmp_path / "model.h5")
    assert result.exit_code == 1 and "only .keras and .tflite" in result.stderr
    result = run("train", "--data", tmp_path / "missing")
    assert result.exit_code == 1 and "does not exist" in result.stderr
    result = run("prepare", tmp_path, "--split", "1/2")
    assert result.exit_code == 2 and "--split" in result.stderr  # a bad option value is a usage error
