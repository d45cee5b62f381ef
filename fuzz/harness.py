"""Feeds the fuzz corpus to the CLI commands and checks that every input is handled cleanly.

Clean means: no traceback, a result or a one-line reason for every file, RAW_DIR byte-for-byte
unchanged. Used by tests/fuzz/test_fuzz.py (small corpus) and benchmarks/robustness.py (500+).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path

from typer.testing import CliRunner

from khmerdigit.cli import app
from khmerdigit.fileio import display_path


def snapshot(root: Path) -> dict[str, str]:
    """Hash of every regular file and target of every link under root, without following links."""
    state = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            if path.is_symlink():
                state[display_path(path)] = "link:" + os.readlink(path)
            elif path.is_file():
                state[display_path(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def run_cli(*args) -> tuple[int, str, str, bool]:
    """Exit code, stdout, stderr, and whether an exception escaped the command."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr, escaped or "Traceback" in result.output


def run_harness(raw: Path, kinds: dict[str, list[Path]], model: Path, work: Path) -> dict:
    """Run prepare, predict, evaluate (and read, when present) on `raw`; per-kind tried/clean counts."""
    before = snapshot(raw)
    handled: dict[str, set[str]] = {}
    problems: list[str] = []

    code, _, _, crashed = run_cli("prepare", raw, "--out", work / "prepared", "--overwrite")
    if crashed or code != 0:
        problems.append(f"prepare: exit {code}, crashed={crashed}")
    listed = set()
    for name, column in (("manifest.csv", "source"), ("rejects.csv", "source")):
        if (work / "prepared" / name).is_file():
            with open(work / "prepared" / name, newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    listed.add(row[column] if column == "source" and name == "rejects.csv"
                               else display_path(raw / row[column]))
    handled["prepare"] = listed

    code, stdout, stderr, crashed = run_cli("predict", raw, "--model", model, "--json")
    if crashed or code != 1:  # the corpus has bad files, so the user must see a non-zero exit
        problems.append(f"predict: exit {code}, crashed={crashed}")
    records = json.loads(stdout) if stdout.strip().startswith("[") else []
    handled["predict"] = {r["file"] for r in records if (r.get("digit") is None) == ("error" in r)}
    if any("\n" in r.get("error", "") for r in records):
        problems.append("predict: an error reason spans several lines")

    code, _, _, crashed = run_cli("evaluate", raw, "--split", "all", "--model", model, "--out", work / "eval")
    if crashed or code != 0:
        problems.append(f"evaluate: exit {code}, crashed={crashed}")

    crashes = [p for p in problems if "crashed=True" in p]
    if any(command.callback is not None and command.callback.__name__ == "read" for command in app.registered_commands):
        files = [p for paths in kinds.values() for p in paths if not p.is_dir()]
        code, _, _, crashed = run_cli("read", *files, "--model", model, "--json")
        if crashed or code == 0:  # bad files present: a non-zero exit, but no crash
            problems.append(f"read: exit {code}, crashed={crashed}")
            crashes += ["read"] if crashed else []

    if snapshot(raw) != before:
        problems.append("RAW_DIR changed")
    report = {}
    for kind, paths in kinds.items():
        clean = 0
        for path in paths:
            if path.is_dir():  # folders have no result of their own: clean when nothing crashed
                clean += not crashes
            else:
                name = display_path(path)
                clean += name in handled["prepare"] and name in handled["predict"] and not crashes
        report[kind] = {"tried": len(paths), "clean": clean}
    return {"kinds": report, "problems": problems}
