"""Thin wrapper: the training benchmark (`models.benchmark.main`)."""

import sys

from models.benchmark import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
