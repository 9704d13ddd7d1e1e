"""Thin wrapper: `python scripts/tsne.py ...` is `keraslosses tsne ...`."""

import sys

from models.cli import main

if __name__ == "__main__":
    sys.exit(main(["tsne", *sys.argv[1:]]))
