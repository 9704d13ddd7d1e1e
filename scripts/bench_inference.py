"""Thin wrapper: the zoo's inference speed per policy (`benchmarks.suite.inference.main`), run from a source checkout."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.suite.inference import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
