"""`keraslosses train`, `keraslosses evaluate` and `keraslosses tsne`.

`train` builds a `models.training.TrainConfig` from the options; `evaluate`
and `tsne` load a `.keras` file (`--model FILE`) or a pretrained model
(`--pretrained NAME`), score it on the test split of a dataset (or, with
`--split validation`, on the images training held out) and write
`evaluate.json` / `tsne.json` (and PNGs) into one `--output-dir`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

from models import data, evaluation, pretrained, training
from models.core.checks import check_between, check_choice
from models.families import registry

log = logging.getLogger("keraslosses.cli")

#: What `evaluate` and `tsne` score: the test split, or the part of the
#: training split that training held out for validation.
SCORED_SPLITS = ("test", "validation")


# --------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------
def add_train_arguments(parser):
    d = training.TRAIN_DEFAULTS
    parser.add_argument("--model", required=True, choices=registry.list_models(), metavar="MODEL",
                        help=f"a registry name: {', '.join(registry.list_models())}")
    parser.add_argument("--dataset", default=d["dataset"], choices=data.names())
    parser.add_argument("--epochs", type=int, default=d["epochs"])
    parser.add_argument("--batch-size", type=int, default=d["batch_size"])
    parser.add_argument("--learning-rate", type=float, default=d["learning_rate"])
    parser.add_argument("--precision", default=d["precision"], choices=training.PRECISIONS,
                        help="auto: mixed_bfloat16 where the CPU has bfloat16 hardware, else float32")
    parser.add_argument("--strategy", default=d["strategy"], choices=training.STRATEGIES)
    parser.add_argument("--labelled-fraction", type=float, default=None, help="fraction of labels used (SE*)")
    parser.add_argument("--size", default=d["size"], choices=training.SIZES, help="network size")
    parser.add_argument("--augment", action="store_true",
                        help="random 2-pixel shifts (and flips where classes survive them, e.g. fashion_mnist)")
    parser.add_argument("--schedule", default=d["schedule"], choices=training.SCHEDULES,
                        help="cosine: linear warm-up over --warmup-epochs, then cosine decay to 0")
    parser.add_argument("--warmup-epochs", type=float, default=d["warmup_epochs"])
    parser.add_argument("--weight-decay", type=float, default=d["weight_decay"], help="> 0: AdamW")
    parser.add_argument("--label-smoothing", type=float, default=d["label_smoothing"],
                        help="of the cross-entropy term (Auto-classifiers, cnn)")
    parser.add_argument("--label-loss", default=None, choices=training.LABEL_LOSSES,
                        help="the cooperative Super-encoders' label term (default: the model's, mae)")
    parser.add_argument("--adversarial-weight", type=float, default=None,
                        help="weight of C's adversarial term in AC(nc) (default: the model's, 1)")
    parser.add_argument("--joint-batch", action="store_true",
                        help="AC(nc) v1: G+ judges the real and the fake codes in one call of G")
    parser.add_argument("--discriminator-batch-norm", action="store_true",
                        help="SE(nc), AC(nc) v2 at the paper size: BatchNorm in D's trunk")
    parser.add_argument("--reconstruction-weight", type=float, default=None,
                        help="the Super-encoders' reconstruction weight beta (default: the model's, 1)")
    parser.add_argument("--reconstruction-loss", default=None, choices=training.LABEL_LOSSES,
                        help="the Super-encoders' reconstruction term (default: the model's, mae)")
    parser.add_argument("--validation", type=float, default=d["validation"],
                        help="fraction of the training set held out (stratified) to choose hyperparameters on")
    parser.add_argument("--subset", type=int, default=None,
                        help="train (and validate) on a stratified, seeded subset of this many training images, "
                             "for quick ablations (default: all)")
    parser.add_argument("--seed", type=int, default=d["seed"])
    parser.add_argument("--data-dir", default=None, help=f"folder of local dataset files (or ${data.ENV_DATA_DIR})")
    parser.add_argument("--output-dir", default=d["output_dir"])
    parser.set_defaults(config=_train_config, run=training.train)


def _train_config(args):
    # every option is named after its TrainConfig field (`verbose` has none)
    return training.TrainConfig(**{name: getattr(args, name) for name in training.TRAIN_DEFAULTS
                                   if hasattr(args, name)})


# --------------------------------------------------------------------------
# evaluate / tsne
# --------------------------------------------------------------------------
@dataclasses.dataclass
class EvaluateConfig:
    """Exactly one of `model_file` (a `.keras` path) and `pretrained` (a zoo
    name); `dataset` defaults to the pretrained model's, else digits.

    `split="validation"` scores the images that training held out instead of
    the test split: the stratified `validation` fraction of the training split,
    seeded by `seed`, as `keraslosses train --validation F --seed S` held them
    out (the paper recipe and the zoo: 0.1, seed 0). Choices between trained
    models are made on these figures; the test split is only reported."""

    model_file: str | None = None
    pretrained: str | None = None
    dataset: str | None = None
    data_dir: str | None = None
    output_dir: str = "runs/evaluate"
    max_samples: int | None = 2000
    seed: int = 0
    separability: bool = False
    split: str = "test"
    validation: float = 0.1

    def __post_init__(self):
        check_choice(self.split, "split", SCORED_SPLITS)
        if self.split == "validation":  # `train --validation`'s range, less 0: nothing would be held out
            check_between(self.validation, "validation", 0.0, 0.5, open_low=True)
        if (self.model_file is None) == (self.pretrained is None):
            raise ValueError("give exactly one of `model_file` and `pretrained`; received "
                             f"model_file={self.model_file!r}, pretrained={self.pretrained!r}.")
        if self.pretrained is not None:
            self.dataset = self.dataset or pretrained.entry(self.pretrained)["dataset"]
        elif not Path(self.model_file).is_file():
            raise FileNotFoundError(f"--model {self.model_file!r}: no such file (for a zoo model, use --pretrained "
                                    f"NAME; `keraslosses pretrained list` names them)")
        self.dataset = self.dataset or "digits"
        check_choice(self.dataset, "dataset", data.names())
        if self.separability:
            evaluation.check_max_samples(self.max_samples)

    @property
    def name(self):
        return self.pretrained or Path(self.model_file).stem


def scored_split(config: EvaluateConfig):
    """The (images, labels) `config` scores: the test split, or the training
    split's held-out validation part (`models.training.split`'s rule)."""
    if config.split == "test":
        return data.load_arrays(config.dataset, "test", config.data_dir)
    x, y = data.load_arrays(config.dataset, "train", config.data_dir)
    return data.validation_split(x, y, config.validation, seed=config.seed)[2:]


def evaluate(config: EvaluateConfig):
    """Score a saved or pretrained model on the test (or validation) split;
    write the JSON."""
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if config.pretrained is not None:
        model = pretrained.load_pretrained(config.pretrained)
    else:
        model = pretrained.load_model(config.model_file)
    x, y = scored_split(config)
    result = evaluation.score(model, x, y, config.separability, config.max_samples, config.seed, out, config.name)
    payload = {"config": training.record(config, paths=("model_file", "data_dir", "output_dir")), **result}
    training.write_json(out / ("tsne.json" if config.separability else "evaluate.json"), payload)
    log.info("%s", json.dumps(result, default=float)[:2000])
    return payload


def add_evaluate_arguments(parser, separability=False):
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", metavar="FILE", help="a .keras file saved by `keraslosses train`")
    which.add_argument("--pretrained", metavar="NAME", choices=pretrained.list_pretrained(),
                       help="a pretrained model (`keraslosses pretrained list`)")
    parser.add_argument("--dataset", default=None, choices=data.names(),
                        help="default: the pretrained model's dataset, else digits")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--max-samples", type=int, default=2000,
                        help="codes embedded by t-SNE (a stratified subset; at least 100)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds the t-SNE subset and, with --split validation, the held-out split")
    parser.add_argument("--split", default="test", choices=SCORED_SPLITS,
                        help="validation: the images `train --validation` held out (to choose between models on)")
    parser.add_argument("--validation", type=float, default=0.1,
                        help="with --split validation: the fraction training held out (the recipe's: 0.1)")
    parser.add_argument("--output-dir", default="runs/tsne" if separability else "runs/evaluate")
    parser.set_defaults(run=evaluate, config=lambda a: EvaluateConfig(
        model_file=a.model, pretrained=a.pretrained, dataset=a.dataset, data_dir=a.data_dir,
        output_dir=a.output_dir, max_samples=a.max_samples, seed=a.seed, separability=separability,
        split=a.split, validation=a.validation))
