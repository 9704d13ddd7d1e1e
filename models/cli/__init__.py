"""The `keraslosses` command line.

Subcommands:

* `keraslosses reproduce --dataset digits`: the paper's tables (the
  quick-start job on the offline digits);
* `keraslosses train --model NAME --dataset ...`: train one model;
* `keraslosses evaluate --model FILE | --pretrained NAME`: test metrics of a
  saved file or a pretrained model;
* `keraslosses tsne --model FILE | --pretrained NAME`: latent separability
  and the t-SNE scatter;
* `keraslosses pretrained list | download NAME | publish ...`: the
  pretrained zoo;
* `keraslosses robustness MODEL...`: test accuracy under Gaussian noise
  and 2-pixel shifts;
* `keraslosses demo`: several keraslosses losses on one small classifier;
* `keraslosses docs [--serve]`: build (and serve) the documentation site.

The top layer: it parses, turns library errors into one-line messages and
exit codes (2 for bad values, 1 for missing or bad files), and calls the
library below. TensorFlow is imported only by the subcommands that train or
load a model, after its C++ logging has been silenced (unless `-v`) and
after the options have become a validated config, so `--help`, `--version`,
`pretrained list` and every bad option answer at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings

log = logging.getLogger("keraslosses")


def _version():
    from importlib import metadata

    try:
        return metadata.version("keraslosses")
    except metadata.PackageNotFoundError:  # a source checkout on PYTHONPATH
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    from models.cli import demo, docs, pretrained, reproduce, robustness, train

    parser = argparse.ArgumentParser(prog="keraslosses", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logging, and TensorFlow's own log lines and warnings")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    reproduce.add_arguments(sub.add_parser("reproduce", help="train every model and write the paper's tables"))
    train.add_train_arguments(sub.add_parser("train", help="train one model"))
    train.add_evaluate_arguments(sub.add_parser("evaluate", help="test metrics of a saved or pretrained model"))
    train.add_evaluate_arguments(sub.add_parser("tsne", help="latent separability and t-SNE scatter"),
                                 separability=True)
    pretrained.add_arguments(sub.add_parser("pretrained", help="list, download or publish pretrained models"))
    robustness.add_arguments(sub.add_parser("robustness", help="accuracy under pixel noise and 2-pixel shifts"))
    demo.add_arguments(sub.add_parser("demo", help="several keraslosses losses on one small classifier"))
    docs.add_arguments(sub.add_parser("docs", help="build (and serve) the documentation site"))
    return parser


def quiet_frameworks(verbose: bool, import_tensorflow: bool) -> None:
    """Unless `verbose`: silence the frameworks' Python warnings and log
    records, and import TensorFlow (when the command needs it) with the
    process's stderr closed. TensorFlow 2.21 writes its C++ start-up lines
    ("oneDNN custom operations are on", "Could not find cuda drivers", ...)
    before its logging is initialised, so `TF_CPP_MIN_LOG_LEVEL` cannot
    silence them; a Python exception raised by the import is still
    reported, since stderr is restored before it propagates."""
    if verbose:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # also for the lines TensorFlow logs after start-up
    warnings.filterwarnings("ignore", module=r"(keras|tensorflow|absl|google|tensorflow_datasets)(\.|$)")
    for name in ("tensorflow", "absl", "keras", "tensorflow_datasets"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if not import_tensorflow or "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def main(argv=None) -> int:
    """Parse `argv`; turn the options into the subcommand's validated config
    (its `config` default: options -> config object, no TensorFlow), then
    import TensorFlow quietly where the command needs it, and `run` the
    config. So a bad value, a missing file or an unknown model name is
    answered before TensorFlow's five-second import."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = args.config(args) if "config" in args else args
        quiet_frameworks(args.verbose, getattr(args, "needs_tensorflow", True))
        status = args.run(settings)
        return status if isinstance(status, int) else 0
    except ValueError as err:  # bad values found after parsing: one line, exit 2
        parser.exit(2, f"keraslosses {args.command}: error: {err}\n")
    except (OSError, ArithmeticError) as err:  # missing or bad files, failed downloads, a diverged run: exit 1
        parser.exit(1, f"keraslosses {args.command}: error: {err}\n")


if __name__ == "__main__":
    sys.exit(main())
