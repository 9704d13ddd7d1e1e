"""Thin wrapper: `python scripts/train.py ...` is `keraslosses train ...`."""

import sys

from models.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
