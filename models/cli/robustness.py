"""`keraslosses robustness`: test accuracy of classifiers under Gaussian
pixel noise and 2-pixel shifts of the test split.

The paper claims the Autonets are more robust than the standalone CNN; this
command measures it. Each MODEL is a pretrained name or a `.keras` file of a
model that classifies (`cnn`, the Auto-classifiers, the Super-encoders'
separators). Writes `robustness_<dataset>.json`, a Markdown table
(`.md`: accuracy, and its drop from the clean accuracy) and a bar plot
(`.png`) into the output folder.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from models import data, evaluation, pretrained, training
from models.core.checks import check_choice

log = logging.getLogger("keraslosses.robustness")


@dataclasses.dataclass
class RobustnessConfig:
    """The models (pretrained names or `.keras` paths), the test split's
    dataset (default: the first pretrained model's), the perturbations, and
    `max_samples` (a seeded, stratified subset of the test split for a
    quick look; None: all of it)."""

    models: tuple
    dataset: str | None = None
    data_dir: str | None = None
    output_dir: str = "runs/robustness"
    sigmas: tuple = evaluation.NOISE_SIGMAS
    shift: int = evaluation.SHIFT
    seed: int = 0
    max_samples: int | None = None

    def __post_init__(self):
        self.models = tuple(self.models)
        if not self.models:
            raise ValueError("give at least one MODEL (a pretrained name or a .keras file)")
        known = set(pretrained.list_pretrained())
        for spec in self.models:
            if spec not in known and not Path(spec).is_file():
                raise FileNotFoundError(f"MODEL {spec!r} is neither a pretrained name (`keraslosses pretrained "
                                        "list`) nor a .keras file")
        if self.dataset is None:
            self.dataset = next((pretrained.entry(m)["dataset"] for m in self.models if m in known), "digits")
        check_choice(self.dataset, "dataset", data.names())
        if any(not 0 < s <= 1 for s in self.sigmas):
            raise ValueError(f"every noise sigma must be in (0, 1]; received sigmas={self.sigmas}")
        if self.shift < 1:
            raise ValueError(f"`shift` must be >= 1 pixel; received shift={self.shift}")
        if self.max_samples is not None and self.max_samples < 10:
            raise ValueError(f"`max_samples` must be at least 10 test images (or None: all); "
                             f"received max_samples={self.max_samples}")


def labels(specs, known):
    """A table label per MODEL: the pretrained name (`known`: the zoo's
    names), else the file's stem, else (two files of one stem, e.g.
    `keraslosses train`'s model.keras) its folder's name.

        >>> labels(["cnn_mnist", "runs/a/model.keras", "runs/b/model.keras", "x/ac.keras"], {"cnn_mnist"})
        ['cnn_mnist', 'a', 'b', 'ac']
    """
    stems = [spec if spec in known else Path(spec).stem for spec in specs]
    return [Path(spec).parent.name if stems.count(stem) > 1 and spec != stem else stem
            for spec, stem in zip(specs, stems)]


def format_table(results):
    """Markdown: per model, the clean accuracy and each perturbed accuracy
    with its drop from the clean one."""
    columns = [k for k in next(iter(results.values())) if k.startswith("noise_") or k == "shift"]
    lines = ["| model | clean | " + " | ".join(c.replace("_", " sigma ").replace("shift", "2-pixel shift")
                                                 for c in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for name, accuracy in results.items():
        cells = [f"{accuracy[c]:.4f} ({accuracy[c] - accuracy['clean']:+.4f})" for c in columns]
        lines.append(f"| {name} | {accuracy['clean']:.4f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(config: RobustnessConfig) -> dict:
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    x, y = data.load_arrays(config.dataset, "test", config.data_dir)
    index = evaluation.stratified_subset(y, config.max_samples, config.seed)
    x, y = x[index], y[index]
    results = {}
    known = set(pretrained.list_pretrained())
    for spec, name in zip(config.models, labels(config.models, known)):
        model = pretrained.load_pretrained(spec) if spec in known else pretrained.load_model(spec)
        if not model.classifies:
            raise ValueError(f"MODEL {spec!r} does not classify ({type(model).__name__}); robustness needs "
                             "class predictions")
        results[name] = evaluation.robustness(model, x, y, config.sigmas, config.shift, config.seed)
        log.info("%s: %s", name, {k: round(v, 4) for k, v in results[name].items()})
    stem = out / f"robustness_{config.dataset}"
    training.write_json(stem.with_suffix(".json"), {"config": training.record(config), "accuracy": results})
    table = format_table(results)
    stem.with_suffix(".md").write_text(table + "\n")
    evaluation.plot_robustness(results, stem.with_suffix(".png"),
                               title=f"{config.dataset}: test accuracy under noise and {config.shift}-pixel shifts")
    print(table)
    return results


def add_arguments(parser) -> None:
    parser.add_argument("models", nargs="+", metavar="MODEL", help="pretrained names or .keras files")
    parser.add_argument("--dataset", default=None, choices=data.names(),
                        help="default: the first pretrained model's dataset, else digits")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--output-dir", default="runs/robustness")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise (and of --max-samples' subset)")
    parser.add_argument("--max-samples", type=int, default=None,
                        help="score a stratified subset of this many test images (default: all)")
    parser.set_defaults(run=run, config=lambda a: RobustnessConfig(
        models=a.models, dataset=a.dataset, data_dir=a.data_dir, output_dir=a.output_dir, seed=a.seed,
        max_samples=a.max_samples))
