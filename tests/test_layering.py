"""Imports flow one way: prediction-time code never loads TensorFlow, data generation or training code."""

import subprocess
import sys

import pytest

FORBIDDEN = ("tensorflow", "keras", "khmerdigit.data", "khmerdigit.train", "khmerdigit.evaluate", "khmerdigit.cli",
             "matplotlib", "sklearn")


@pytest.mark.parametrize("module", ["khmerdigit.runtime.classifier", "khmerdigit.reading.reader",
                                    "khmerdigit.reading.debug_image"])
def test_prediction_code_imports_no_training_code(module):
    code = (f"import sys, {module}\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} or m.startswith({FORBIDDEN!r})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout
