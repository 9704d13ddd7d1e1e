"""Thin wrapper: `python scripts/reproduce.py ...` is `keraslosses reproduce ...`."""

import sys

from models.cli import main

if __name__ == "__main__":
    sys.exit(main(["reproduce", *sys.argv[1:]]))
