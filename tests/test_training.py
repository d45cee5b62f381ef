from khmerdigit.data.dataset import prepare
from khmerdigit.runs import read_history
from khmerdigit.train.trainer import TrainConfig, train
from tests.helpers import make_class_folders


def test_same_seed_same_run_other_seed_other_run(tmp_path):
    make_class_folders(tmp_path / "raw", per_class=10)
    prepare(tmp_path / "raw", tmp_path / "prepared")

    def losses(name: str, seed: int) -> list:
        config = TrainConfig(data=[str(tmp_path / "prepared")], epochs=2, batch_size=16, seed=seed,
                             project=str(tmp_path / "runs"), name=name)
        return [(row["loss"], row["val_loss"]) for row in read_history(train(config) / "history.csv")]

    first = losses("a", seed=1)
    assert losses("b", seed=1) == first
    assert losses("c", seed=2) != first
