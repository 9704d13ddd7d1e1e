"""Thin wrapper: `python scripts/robustness.py ...` is `keraslosses robustness ...`."""

import sys

from models.cli import main

if __name__ == "__main__":
    sys.exit(main(["robustness", *sys.argv[1:]]))
