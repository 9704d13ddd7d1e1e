"""Thin wrapper: the paper-grade recipe ablation (`benchmarks.suite.recipe.main`), run from a source checkout."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.suite.recipe import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
