"""Thin wrapper: `python scripts/docs.py ...` is `keraslosses docs ...`."""

import sys

from models.cli import main

if __name__ == "__main__":
    sys.exit(main(["docs", *sys.argv[1:]]))
