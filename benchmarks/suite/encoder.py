"""Ablation of the paper-size encoder: where the Super-encoder's code is read
from (the classifier's global average with dropout, or the spatial map).

SE(co) at `size="paper"` under `mixed_bfloat16`, Adam 1e-3 (the model's
default optimizers), 4 epochs, batch 128, on the MNIST subset of the games
ablations (`benchmarks.suite.games.split`: 10,000 training / 2,000 validation
images of a stratified 12,000; the test split is never read), seed 0.
Variants differ in the encoder only:

* `gap`: the classifier's trunk (global average pooling, dropout 0.3);
* `spatial_dropout`: a 1x1 convolution to 32 channels, flattened, dropout 0.3;
* `spatial`: the same without dropout (`models.core.networks.encoder`);
* `small_encoder`: the small size's encoder (two stride-2 convolutions).

Reported on the validation images: the reconstruction MSE and the
separator's accuracy. `python scripts/bench_encoder.py --data-dir DIR`
prints the table and writes `benchmarks/results/encoder.json`.
"""

from __future__ import annotations

import logging
import time

from benchmarks.suite import harness

log = logging.getLogger("benchmarks.encoder")

VARIANTS = ("gap", "spatial_dropout", "spatial", "small_encoder")
SHAPE, LATENT = (28, 28, 1), 16


def build_encoder(variant):
    """The encoder of `variant` (under the dtype policy in force)."""
    import keras
    from keras import layers

    from models.core import networks

    if variant == "small_encoder":
        return networks.encoder(SHAPE, LATENT, "small")
    if variant == "spatial":
        return networks.encoder(SHAPE, LATENT, "paper")
    trunk = networks.conv_trunk(SHAPE, "paper", name="encoder_trunk", spatial=variant == "spatial_dropout")
    x = layers.Dropout(0.3)(trunk.output) if variant == "spatial_dropout" else trunk.output
    x = layers.Dense(256, activation="relu")(x)
    return keras.Model(trunk.input, layers.Dense(LATENT, dtype="float32", name="latent")(x), name="encoder")


def run_variant(variant, data_dir):
    import keras
    import numpy as np

    import models
    from benchmarks.suite.games import split
    from models.core.precision import policy_scope

    x, y, x_val, y_val = split("mnist", data_dir)
    keras.utils.set_random_seed(0)
    with policy_scope("mixed_bfloat16"):
        encoder = build_encoder(variant)
    model = models.create("se_co", input_shape=SHAPE, num_classes=10, size="paper", dtype_policy="mixed_bfloat16",
                          encoder=encoder)
    model.compile()
    start = time.perf_counter()
    model.fit(x, y, epochs=4, batch_size=128, verbose=0, seed=0)
    seconds = time.perf_counter() - start
    reconstruction = float(np.mean((model.reconstruct(x_val) - x_val) ** 2))
    accuracy = float(np.mean(model.predict(x_val, verbose=0).argmax(-1) == y_val))
    return {"variant": variant, "reconstruction_mse": round(reconstruction, 4), "separator_accuracy": accuracy,
            "encoder_parameters": int(encoder.count_params()), "seconds": round(seconds, 1)}


def run(args):
    variants = args.variants.split(",")
    harness.check_variants(variants, VARIANTS)
    rows = []
    for variant in variants:
        rows.append(run_variant(variant, args.data_dir))
        log.info("%s", rows[-1])
    table = "\n".join(["| encoder | validation reconstruction MSE | separator accuracy | parameters | train s |",
                       "|---|---|---|---|---|"]
                      + [f"| {r['variant']} | {r['reconstruction_mse']:.4f} | {r['separator_accuracy']:.4f} "
                         f"| {r['encoder_parameters']:,} | {r['seconds']:.0f} |" for r in rows])
    harness.write({"machine": harness.machine(), "rows": rows}, args.output, table)


def add_arguments(parser):
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--data-dir", required=True, help="folder of the canonical MNIST IDX files")
    parser.add_argument("--output", default="benchmarks/results/encoder.json")
    parser.set_defaults(run=run)


def main(argv=None):
    return harness.main("bench_encoder", __doc__.splitlines()[0], add_arguments, argv)
