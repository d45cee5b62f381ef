import numpy as np
import pytest

from khmerdigit import KhmerDigitError
from khmerdigit.data.dataset import labelled_files, load_arrays
from khmerdigit.runtime.classifier import Classifier, read_metadata
from khmerdigit.train.export import export_tflite
from tests.helpers import run


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    data = trained_run.parent.parent / "prepared"
    for quantize in ("none", "float16", "dynamic", "int8"):
        export_tflite(trained_run / "best.keras", folder / f"{quantize}.tflite", quantize, data)
    keras_model = Classifier(trained_run / "best.keras")
    samples = labelled_files(data).samples
    x, y, _, _ = load_arrays(samples, keras_model.config)
    return folder, keras_model, x, y


def test_tflite_predicts_what_keras_predicts(exported):
    folder, keras_model, x, _ = exported
    reference = keras_model.probabilities(x)
    for quantize in ("none", "float16", "dynamic"):
        lite = Classifier(folder / f"{quantize}.tflite").probabilities(x)
        assert (lite.argmax(1) == reference.argmax(1)).all(), quantize
        assert np.abs(lite - reference).max() < 0.01, quantize


def test_dynamic_has_int8_weights_and_float_input_and_output(exported):
    folder, *_ = exported
    dynamic = Classifier(folder / "dynamic.tflite")
    assert dynamic.runner.input["dtype"] == np.float32 and dynamic.runner.output["dtype"] == np.float32
    assert (folder / "dynamic.tflite").stat().st_size < (folder / "none.tflite").stat().st_size / 3


def test_int8_is_small_and_close(exported):
    folder, keras_model, x, y = exported
    int8 = Classifier(folder / "int8.tflite")
    assert int8.runner.input["dtype"] == np.int8
    assert (folder / "int8.tflite").stat().st_size < (folder / "none.tflite").stat().st_size / 3
    reference, quantized = keras_model.probabilities(x), int8.probabilities(x)
    assert np.abs(quantized - reference).max() < 0.02  # image by image, not just a similar accuracy
    top_two = np.sort(reference, axis=1)[:, -2:]
    decided = top_two[:, 1] - top_two[:, 0] > 0.02  # the tiny test model hesitates over many images
    assert (quantized.argmax(1) == reference.argmax(1))[decided].all()


def test_metadata_beside_the_export(exported):
    folder, keras_model, _, _ = exported
    metadata, config = read_metadata(folder / "int8.tflite")
    assert metadata["quantization"] == "int8" and metadata["classes"][3] == "៣"
    assert config == keras_model.config and metadata["input_shape"] == [config.size, config.size, 1]


def test_export_cli_and_bad_requests(trained_run, tmp_path):
    result = run("export", "--run", trained_run, "-o", tmp_path / "m.tflite")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m.tflite").is_file() and (tmp_path / "m.json").is_file()
    assert run("export", "--run", trained_run, "-o", tmp_path / "m.bin").exit_code == 1
    assert run("export", "--run", trained_run, "-o", tmp_path / "x.tflite", "--quantize", "int4").exit_code == 2
    with pytest.raises(KhmerDigitError, match="int8 export needs training images"):
        export_tflite(trained_run / "best.keras", tmp_path / "y.tflite", "int8", tmp_path)


def test_an_ensemble_averages_its_members(trained_run, tmp_path, exported):
    from khmerdigit.train.ensemble import ensemble

    _, keras_model, x, _ = exported
    model = ensemble([trained_run / "best.keras", trained_run / "best.keras"], tmp_path / "pair.keras")
    pair = Classifier(model)
    assert pair.metadata["parameters"] == 2 * keras_model.metadata["parameters"]
    np.testing.assert_allclose(pair.probabilities(x), keras_model.probabilities(x), atol=1e-5)
    with pytest.raises(KhmerDigitError, match="two or more"):
        ensemble([trained_run / "best.keras"], tmp_path / "one.keras")
