"""Training throughput of the game models.

1. AC(co) v1 through its custom `train_step` (two players, two optimizers,
   strict cooperation) against a plain `fit` of a functional model built
   from the *same* classifier and generator networks, minimising the summed
   loss CE(y, C(x)) + MSE(x, G(C(x))) with one optimizer: the cost of the
   game machinery itself.
2. float32 vs mixed_bfloat16 vs mixed_float16 for AC(co) v1 and SE(co),
   small and (without `--quick`) large networks.

Mixed precision pays only where the CPU has 16-bit arithmetic (AVX-512
BF16/AMX for bfloat16); elsewhere TensorFlow emulates 16-bit convolutions
and they are several times slower than float32. Measure on the target
machine before choosing a policy.

Samples per second of `fit` on 28x28x1 inputs (MNIST-shaped, synthetic),
after a warm-up epoch that traces the step, median of repeats, all
configurations measured in one process. `python scripts/bench_training.py
[--quick]` prints a table and writes `benchmarks/results/training.json`.
"""

from __future__ import annotations

import dataclasses
import logging
import sys

from benchmarks.suite import harness

log = logging.getLogger("benchmarks.training")

SHAPE = (28, 28, 1)
CLASSES = 10


@dataclasses.dataclass
class TrainingBenchConfig:
    quick: bool = False
    output: str = "benchmarks/results/training.json"
    batch_size: int = 128
    steps: int = 20
    repeats: int = 3
    sizes: tuple = ("small", "large", "paper")

    def __post_init__(self):
        if self.quick:
            self.steps, self.repeats, self.sizes = 10, 2, ("small",)


def _data(n):
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.uniform(size=(n, *SHAPE)).astype("float32"), rng.integers(0, CLASSES, n).astype("int32")


def samples_per_second(model, x, y, config):
    """Median samples/s of `model.fit` over `config.steps` batches."""
    n = config.batch_size * config.steps
    model.fit(x[: 2 * config.batch_size], y if y is None else _head(y, 2 * config.batch_size),
              batch_size=config.batch_size, epochs=1, verbose=0)  # trace and warm up
    seconds = harness.median_seconds(
        lambda: model.fit(x[:n], y if y is None else _head(y, n), batch_size=config.batch_size, epochs=1,
                          verbose=0, shuffle=False), config.repeats)
    return n / seconds


def _head(y, n):
    if isinstance(y, dict):
        return {k: v[:n] for k, v in y.items()}
    return y[:n]


def plain_fit_twin(game_model):
    """A functional model on the game model's own classifier and generator,
    compiled with the summed loss CE + MSE and one Adam optimizer."""
    import keras

    inputs = keras.Input(SHAPE)
    probs = game_model.classifier(inputs)
    recon = game_model.generator(probs)
    model = keras.Model(inputs, {"probs": probs, "recon": recon})
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss={"probs": keras.losses.SparseCategoricalCrossentropy(),
                        "recon": keras.losses.MeanSquaredError()})
    return model


def run(config: TrainingBenchConfig) -> dict:
    import keras

    import models

    x, y = _data(config.batch_size * config.steps)
    records = []

    def measure(label, make, targets, policy="float32", size="small"):
        keras.utils.set_random_seed(0)
        with models.policy_scope(policy):
            model = make(size)
        rate = samples_per_second(model, x, targets, config)
        record = {"benchmark": label, "policy": policy, "size": size, "samples_per_s": round(rate, 1)}
        records.append(record)
        log.info("%-24s %-15s %-6s %9.1f samples/s", label, policy, size, rate)
        return rate

    def game(name):
        def make(size):
            model = models.create(name, input_shape=SHAPE, num_classes=CLASSES, size=size)
            model.compile()
            return model

        return make

    def plain(size):
        return plain_fit_twin(models.create("ac_co_v1_mse", input_shape=SHAPE, num_classes=CLASSES, size=size))

    custom = measure("ac_co_v1 custom step", game("ac_co_v1_mse"), y)
    baseline = measure("plain fit, same nets", plain, {"probs": y, "recon": x})
    comparisons = {"custom_over_plain": round(custom / baseline, 3)}
    for name in ("ac_co_v1_mse", "se_co"):
        for size in config.sizes:
            rates = {policy: measure(name, game(name), y, policy, size)
                     for policy in ("float32", "mixed_bfloat16", "mixed_float16")}
            for policy in ("mixed_bfloat16", "mixed_float16"):
                comparisons[f"{name}_{size}_{policy}_over_float32"] = round(rates[policy] / rates["float32"], 3)
    result = {"config": dataclasses.asdict(config), "machine": harness.machine(), "records": records,
              "ratios": comparisons}
    return harness.write(result, config.output, format_table(result))


def format_table(result) -> str:
    lines = ["| benchmark | policy | size | samples/s |", "|---|---|---|---|"]
    lines += [f"| {r['benchmark']} | {r['policy']} | {r['size']} | {r['samples_per_s']:.1f} |"
              for r in result["records"]]
    lines += ["", "| ratio | value |", "|---|---|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in result["ratios"].items()]
    return "\n".join(lines)


def add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    parser.add_argument("--output", default=TrainingBenchConfig.output)
    parser.set_defaults(run=lambda args: run(TrainingBenchConfig(quick=args.quick, output=args.output)))


def main(argv=None) -> int:
    return harness.main("bench_training", __doc__.splitlines()[0], add_arguments, argv)


if __name__ == "__main__":
    sys.exit(main())
