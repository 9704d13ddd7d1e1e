"""Package boundaries and what the wheel carries."""

import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT


def test_keraslosses_does_not_import_models():
    code = ("import sys, keraslosses; "
            "assert not any(m == 'models' or m.startswith('models.') for m in sys.modules), 'models imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.slow
def test_the_wheel_ships_every_pretrained_model_intact_and_they_load_offline_from_any_folder(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                           "--wheel-dir", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = tmp_path.glob("keraslosses-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(n.rsplit("/", 1)[1] for n in names if n.endswith(".keras"))
    expected = sorted(p.name for p in (ROOT / "saved_models").glob("*.keras"))
    assert shipped == expected and "models/saved_models/manifest.json" in names
    assert "models/pretrained/__init__.py" in names and "models/cli/__init__.py" in names
    assert not [n for n in names if n.startswith(("tests/", "scripts/", "benchmarks/")) or "/cards/" in n]
    # Installed into a folder of its own and imported from an unrelated one: no checkout, no network.
    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target",
                           str(site), str(wheel)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # Every installed file is the manifest's (its SHA-256), and a model of each
    # class loads and predicts there; the manifest tests load every model from
    # the installed package and score it.
    code = ("import models, numpy as np\n"
            "from models import pretrained\n"
            "assert pretrained.local_dir() == pretrained._INSTALLED, pretrained.local_dir()\n"
            "entries = pretrained.manifest()\n"
            "for name, e in entries.items():\n"
            "    assert pretrained.sha256(pretrained._INSTALLED / e['file']) == e['sha256'], name\n"
            "for name in ('cnn_mnist', 'se_nc_fashion_mnist', 'ac_nc_v2_mse_mnist'):\n"
            "    m = models.load_pretrained(name)\n"
            "    x = np.zeros((2, 28, 28, 1), 'float32')\n"
            "    assert m.encode(x).shape[0] == 2 and type(m).__name__ == entries[name]['class'], name\n"
            "print(len(entries))\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {"PYTHONPATH": str(site), "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", "KERAS_HOME": str(work),
           "KERASLOSSES_MODELS_URL": "http://127.0.0.1:9/"}  # a download would fail loudly
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=work, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert int(proc.stdout.split()[-1]) == len(expected)


def test_committed_results_and_the_manifest_hold_no_absolute_paths():
    import json
    import re

    files = [*(ROOT / "benchmarks" / "results").glob("*.json"), ROOT / "saved_models" / "manifest.json"]
    assert len(files) >= 5
    absolute = re.compile(r'^(/|[A-Za-z]:\\|~)')

    def strings(value):
        if isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)
        elif isinstance(value, str):
            yield value

    found = [(f.name, s) for f in files for s in strings(json.loads(f.read_text())) if absolute.match(s)]
    assert found == []
