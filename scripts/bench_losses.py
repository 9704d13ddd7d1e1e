"""Thin wrapper: the loss benchmark suite (`keraslosses.benchmark.main`)."""

import sys

from keraslosses.benchmark import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
