"""The `keraslosses` console entry point, run as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def keraslosses_command():
    """The installed console script (next to this interpreter, else on PATH)."""
    candidate = Path(sys.executable).parent / "keraslosses"
    path = str(candidate) if candidate.exists() else shutil.which("keraslosses")
    assert path, "the `keraslosses` console script is not installed: pip install -e '.[test]'"
    return [path]


def run(*args, timeout=300):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([*keraslosses_command(), *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)


def test_demo_trains_and_writes_results(tmp_path):
    proc = run("demo", "--epochs", "3", "--losses", "sparse_crossentropy", "crammer_singer_hinge",
               "--output-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "demo.json").read_text())
    assert set(summary["results"]) == {"sparse_crossentropy", "crammer_singer_hinge"}
    for name, result in summary["results"].items():
        assert result["test_accuracy"] > 0.5, (name, result)  # chance is 0.1
        assert result["final_loss"] < result["first_loss"], (name, result)
    assert (tmp_path / "demo.md").read_text().startswith("| loss |")


def test_bad_option_values_are_one_line_errors_with_exit_code_2(tmp_path):
    proc = run("demo", "--losses", "nope", "--output-dir", str(tmp_path), timeout=60)
    assert proc.returncode == 2
    assert "invalid choice: 'nope'" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("demo", "--epochs", "0", "--output-dir", str(tmp_path), timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == "keraslosses demo: error: --epochs must be >= 1; received 0"


def test_scripts_wrapper_runs_the_same_command(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "scripts/demo.py", "--help"], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=60)
    assert proc.returncode == 0 and "--losses" in proc.stdout
