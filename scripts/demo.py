"""Thin wrapper: `python scripts/demo.py ...` is `keraslosses demo ...`."""

import sys

from models.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))
