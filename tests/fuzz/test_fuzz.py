"""A fast subset of the robustness harness: about 55 bad or odd inputs through every command."""

from fuzz.corpus import make_corpus
from fuzz.harness import run_harness
from khmerdigit.runtime.registry import BUNDLED_MODEL


def test_every_odd_input_is_handled_cleanly(tmp_path):
    kinds = make_corpus(tmp_path / "raw", scale=1)
    result = run_harness(tmp_path / "raw", kinds, BUNDLED_MODEL, tmp_path / "work")
    assert result["problems"] == []
    unclean = {kind: counts for kind, counts in result["kinds"].items() if counts["clean"] != counts["tried"]}
    assert unclean == {}
    assert sum(counts["tried"] for counts in result["kinds"].values()) >= 50
