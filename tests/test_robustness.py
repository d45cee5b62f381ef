"""Interrupted training, model loading safety, and write failures."""

import json
import signal
import subprocess
import sys
import time

import pytest

from khmerdigit import KhmerDigitError
from khmerdigit.data.dataset import prepare
from khmerdigit.fileio import read_json
from khmerdigit.runs import read_history
from khmerdigit.runtime.backend import import_keras
from khmerdigit.runtime.classifier import Classifier
from khmerdigit.runtime.preprocess import PreprocessConfig
from khmerdigit.runtime.registry import digits_metadata, metadata_path
from khmerdigit.train.trainer import Reporter, TrainConfig, TrainingInterrupted, stop_requested, train
from tests.helpers import make_class_folders, run


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_training_keeps_checkpoint_and_resumes(tmp_path, stop_signal):
    make_class_folders(tmp_path / "raw", per_class=40)
    prepare(tmp_path / "raw", tmp_path / "prepared")
    run_dir = tmp_path / "runs" / "job"
    command = [sys.executable, "-m", "khmerdigit", "train", "--data", str(tmp_path / "prepared"),
               "--epochs", "200", "--batch-size", "8", "--project", str(tmp_path / "runs"), "--name", "job"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (run_dir / "state.json").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # now somewhere inside a later epoch
    process.send_signal(stop_signal)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "--resume" in stderr and "Traceback" not in stderr

    done = read_json(run_dir / "state.json")["epochs_done"]
    assert 1 <= done < 200
    assert len(read_history(run_dir / "history.csv")) == done
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(".")]  # no half-written temp files
    Classifier(run_dir / "last.keras")  # loads: the checkpoint is intact

    result = run("train", "--resume", run_dir, "--epochs", done + 2)
    assert result.exit_code == 0, result.output
    history = read_history(run_dir / "history.csv")
    assert [row["epoch"] for row in history] == list(range(1, done + 3))


class LostInterrupt(Reporter):
    """Requests a stop after the first epoch as the signal handler does, but its KeyboardInterrupt is lost
    (as it is when it lands in a finalizer)."""

    def epoch(self, epoch: int, logs: dict) -> None:
        stop_requested.set()


def test_a_stop_request_whose_interrupt_was_lost_stops_training_after_the_next_batch(tmp_path):
    make_class_folders(tmp_path / "raw", per_class=10)
    prepare(tmp_path / "raw", tmp_path / "prepared")
    config = TrainConfig(data=[str(tmp_path / "prepared")], epochs=50, batch_size=16,
                         project=str(tmp_path / "runs"), name="job")
    with pytest.raises(TrainingInterrupted) as interrupted:
        train(config, LostInterrupt())
    assert read_json(interrupted.value.run_dir / "state.json")["epochs_done"] == 1


def save_with_metadata(model, path, **changes):
    model.save(path)
    metadata = digits_metadata("test", PreprocessConfig(size=32), model.count_params())
    metadata.update(changes)
    metadata_path(path).write_text(json.dumps(metadata))


def test_untrusted_code_in_a_model_is_refused(tmp_path):
    keras = import_keras()
    inputs = keras.Input((32, 32, 1))
    outputs = keras.layers.Dense(10)(keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 2)(inputs)))
    save_with_metadata(keras.Model(inputs, outputs), tmp_path / "lambda.keras")
    with pytest.raises(KhmerDigitError, match="cannot load"):
        Classifier(tmp_path / "lambda.keras")


def test_models_that_do_not_fit_the_tool_are_refused(tmp_path):
    keras = import_keras()
    inputs = keras.Input((32, 32, 1))
    model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs)))
    save_with_metadata(model, tmp_path / "classes.keras", classes=list("0123456789"))
    with pytest.raises(KhmerDigitError, match="other classes"):
        Classifier(tmp_path / "classes.keras")
    save_with_metadata(model, tmp_path / "version.keras", preprocess={"size": 32, "method": "normalized", "version": 99})
    with pytest.raises(KhmerDigitError, match="preprocessing version"):
        Classifier(tmp_path / "version.keras")
    save_with_metadata(model, tmp_path / "size.keras", input_shape=[28, 28, 1])
    with pytest.raises(KhmerDigitError, match="input shape"):
        Classifier(tmp_path / "size.keras")
    model.save(tmp_path / "bare.keras")
    with pytest.raises(KhmerDigitError, match="no metadata"):
        Classifier(tmp_path / "bare.keras")


def test_unwritable_output_is_a_clear_error_and_writes_nothing(tmp_path):
    make_class_folders(tmp_path / "raw", per_class=3)
    (tmp_path / "blocker").write_text("a file where a folder should be")
    result = run("prepare", tmp_path / "raw", "--out", tmp_path / "blocker" / "prepared")
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert message.startswith("error:") and len(message.splitlines()) == 1 and "blocker" in message
    assert (tmp_path / "blocker").read_text() == "a file where a folder should be"
