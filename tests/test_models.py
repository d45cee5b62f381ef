import pytest

from khmerdigit import KhmerDigitError
from khmerdigit.runtime.backend import import_keras
from khmerdigit.runtime.registry import DIGITS, LINE, WHOLE_DIGIT
from khmerdigit.train.architectures import ARCHITECTURES, digit_architectures, get_architecture


def test_paper_model_matches_the_paper_exactly():
    keras = import_keras()
    model = get_architecture("paper").build(keras)
    assert model.count_params() == 18442
    shapes = [tuple(layer.output.shape[1:]) for layer in model.layers if layer.count_params()]
    assert shapes == [(16, 16, 8), (16, 16, 8), (8, 8, 16), (8, 8, 16), (64,), (10,)]
    assert [layer.count_params() for layer in model.layers if layer.count_params()] == [80, 32, 1168, 64, 16448, 650]


def test_every_architecture_builds_small_with_its_registered_input():
    keras = import_keras()
    assert set(ARCHITECTURES) == {"paper", "default", "whole-digit", "line-reader"}
    outputs = {DIGITS: (10,), WHOLE_DIGIT: (1,), LINE: (LINE.input_shape[1] // 4, 11)}
    for architecture in ARCHITECTURES.values():
        model = architecture.build(keras)
        network = architecture.network
        if network is DIGITS:
            size = architecture.preprocess.size
            assert tuple(model.input.shape[1:]) == (size, size, 1)
        else:
            assert architecture.preprocess is None and tuple(model.input.shape[1:]) == network.input_shape
        assert tuple(model.output.shape[1:]) == outputs[network], architecture.name
        assert model.count_params() < 250_000


def test_only_digit_classifiers_can_be_trained_with_train():
    assert digit_architectures() == ["paper", "default"]
    with pytest.raises(KhmerDigitError, match="choose from paper, default"):
        get_architecture("line-reader")
