from khmerdigit.backend import import_keras
from khmerdigit.models import ARCHITECTURES, get_architecture


def test_paper_model_matches_the_paper_exactly():
    keras = import_keras()
    model = get_architecture("paper").build(keras)
    assert model.count_params() == 18442
    shapes = [tuple(layer.output.shape[1:]) for layer in model.layers if layer.count_params()]
    assert shapes == [(16, 16, 8), (16, 16, 8), (8, 8, 16), (8, 8, 16), (64,), (10,)]
    assert [layer.count_params() for layer in model.layers if layer.count_params()] == [80, 32, 1168, 64, 16448, 650]


def test_every_architecture_builds_small_with_its_input_size():
    keras = import_keras()
    for architecture in ARCHITECTURES.values():
        model = architecture.build(keras)
        size = architecture.preprocess.size
        assert tuple(model.input.shape[1:]) == (size, size, 1)
        assert tuple(model.output.shape[1:]) == (10,)
        assert model.count_params() < 150_000
