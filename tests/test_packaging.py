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


def test_the_wheel_installs_the_manifest_as_package_data_and_no_model_files(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                           "--wheel-dir", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import zipfile

    (wheel,) = tmp_path.glob("keraslosses-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "models/saved_models/manifest.json" in names and "models/pretrained.py" in names
    assert not [n for n in names if n.endswith(".keras")]  # downloaded on demand, not installed
    assert not [n for n in names if n.startswith(("tests/", "scripts/", "benchmarks/"))]
