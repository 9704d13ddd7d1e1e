"""Thin wrapper: `python scripts/evaluate.py ...` is `keraslosses evaluate ...`."""

import sys

from models.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
