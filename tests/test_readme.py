"""The README is a short user guide (issue 18) whose commands and defaults match the tool."""

import re
from pathlib import Path

from khmerdigit import defaults

ROOT = Path(__file__).resolve().parents[1]


def test_readme_is_a_short_user_guide():
    readme = (ROOT / "README.md").read_text()
    lines = readme.splitlines()
    assert len(lines) <= 300
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.DOTALL)
    assert blocks[0].strip() == 'pip install -e ".[dev]" && khmerdigit demo'
    assert blocks[1].strip() == "python3 -m pytest -q"
    for name in ("prepare", "synth", "train", "export", "demo", "evaluate", "report", "predict", "read"):
        assert f"khmerdigit {name}" in readme, name
    for line in (line for block in blocks for line in block.splitlines()):
        if "khmerdigit predict" in line:
            assert "number_" not in line and not re.search(r"predict sample_images(\s|$)", line), line
    for image in re.findall(r"!\[[^]]*\]\(([^)]+)\)", readme):
        assert (ROOT / image).is_file(), image
    for section in ("## Accuracy", "## Serving over HTTP", "## Citing"):
        assert section in readme, section


def test_readme_states_the_cli_defaults():
    readme = (ROOT / "README.md").read_text()
    for fact in (f"--epochs {defaults.EPOCHS}", f"--patience {defaults.PATIENCE}", f"--batch-size {defaults.BATCH_SIZE}",
                 f"--split {defaults.SPLIT}", f"--threshold {defaults.THRESHOLD}", f"--per-class {defaults.SYNTH_PER_CLASS}",
                 f"--out {defaults.PREPARED_DIR}", f"--project {defaults.RUNS_DIR}"):
        assert fact in readme, fact
