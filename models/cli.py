"""The `keraslosses` command line.

Subcommands:

* `keraslosses reproduce --dataset digits`: the paper's tables (the
  quick-start job on the offline digits);
* `keraslosses train --model NAME --dataset ...`: train one model;
* `keraslosses evaluate --model PATH_OR_NAME --dataset ...`: test metrics
  of a saved file or a pretrained model;
* `keraslosses tsne --model PATH --dataset ...`: latent separability and
  the t-SNE scatter;
* `keraslosses pretrained list | download NAME`: the pretrained zoo;
* `keraslosses demo`: several keraslosses losses on one small classifier.

Bad option values get a one-line error naming the value and the valid
choices, and exit code 2 (argparse's convention), never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

log = logging.getLogger("keraslosses")


def build_parser() -> argparse.ArgumentParser:
    from models import commands, demo, pretrained, reproduce

    parser = argparse.ArgumentParser(prog="keraslosses", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    reproduce.add_arguments(sub.add_parser("reproduce", help="train every model and write the paper's tables"))
    commands.add_train_arguments(sub.add_parser("train", help="train one model"))
    commands.add_evaluate_arguments(sub.add_parser("evaluate", help="test metrics of a saved model"))
    commands.add_evaluate_arguments(sub.add_parser("tsne", help="latent separability and t-SNE scatter"),
                                    separability=True)
    pretrained.add_arguments(sub.add_parser("pretrained", help="list or download the pretrained models"))
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
    except OSError as err:  # missing files, failed downloads, hash mismatches: one line, exit 1
        parser.exit(1, f"keraslosses {args.command}: error: {err}\n")


if __name__ == "__main__":
    sys.exit(main())
