"""Package boundaries: keraslosses never imports the model zoo."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_keraslosses_does_not_import_models():
    code = ("import sys, keraslosses, keraslosses.benchmark; "
            "assert not any(m == 'models' or m.startswith('models.') for m in sys.modules), 'models imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-2000:]
