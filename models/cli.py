"""The `keraslosses` command line.

Subcommands (more arrive with the model issues):

* `keraslosses demo`: the quick-start job. Trains the same small network on
  scikit-learn's bundled 8x8 digits (offline, always available) with several
  keraslosses classification losses and writes a table and JSON.

Bad option values get a one-line error naming the value and the valid
choices, and exit code 2 (argparse's convention), never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

log = logging.getLogger("keraslosses")


def build_parser() -> argparse.ArgumentParser:
    from models import demo

    parser = argparse.ArgumentParser(prog="keraslosses", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo.add_arguments(sub.add_parser("demo", help=demo.__doc__.splitlines()[0]))
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.run(args)
    except ValueError as err:  # bad values found after parsing: one line, exit 2
        parser.exit(2, f"keraslosses {args.command}: error: {err}\n")


if __name__ == "__main__":
    sys.exit(main())
