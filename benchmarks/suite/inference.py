"""Inference speed of the pretrained zoo under its stored policy and in float32.

Every paper-grade zoo model was trained under `mixed_bfloat16`. On a CPU
without bfloat16 instructions (AVX2) Keras emulates bfloat16, and the
transposed convolutions of the paper-size decoders and generators ran far
slower than in float32; `models.load_pretrained(name)` ("auto" precision)
therefore computes such a model in float32 there (`models.training.
inference_precision`). This benchmark times, per model, the encoder's pass
(`encode`: the codes, for the Auto-classifiers and the CNN also the class
probabilities) and the decoder's (`decode`), on the same images under both
policies, interleaved (`harness.alternate`), and reports how far the class
probabilities of the two policies lie apart. The images are random pixels of
the dataset's shape: the time does not depend on them.

`python scripts/bench_inference.py [--models cnn_mnist,ac_co_v1_mse_mnist,se_nc_mnist] [--images 5000]`
prints the table and writes `benchmarks/results/inference.json`.
"""

from __future__ import annotations

import logging

import numpy as np

from benchmarks.suite import harness

log = logging.getLogger("benchmarks.inference")


def measure(name, images, repeats, seed=0):
    """The row of zoo model `name`: median seconds of `encode` and `decode`
    under the stored policy and in float32, and the largest difference of the
    two policies' class probabilities."""
    from models import pretrained, training

    stored = pretrained.load_pretrained(name, precision="stored")
    float32 = pretrained.load_pretrained(name, precision="float32")
    x = np.random.default_rng(seed).uniform(0.0, 1.0, (images, *stored.config["input_shape"])).astype("float32")
    row = {"model": name, "stored_policy": stored.dtype_policy.name, "images": images, "repeats": repeats,
           "auto": training.inference_precision("auto", stored.dtype_policy.name)}
    codes = {}
    row["encode_s"] = dict(zip(("stored", "float32"), harness.alternate(
        lambda: codes.__setitem__("stored", stored.encode(x)),
        lambda: codes.__setitem__("float32", float32.encode(x)), repeats)))
    if stored.reconstructs:
        row["decode_s"] = dict(zip(("stored", "float32"), harness.alternate(
            lambda: stored.decode(codes["stored"]), lambda: float32.decode(codes["float32"]), repeats)))
    if stored.classifies:
        probabilities = {k: m.classify_codes(codes[k]) for k, m in (("stored", stored), ("float32", float32))}
        row["max_probability_difference"] = float(np.abs(probabilities["stored"] - probabilities["float32"]).max())
        row["same_class"] = float((probabilities["stored"].argmax(-1) == probabilities["float32"].argmax(-1)).mean())
    total = {k: row["encode_s"][k] + row.get("decode_s", {}).get(k, 0.0) for k in ("stored", "float32")}
    row["speedup"] = total["stored"] / total["float32"]
    log.info("%s", row)
    return row


def run(args):
    rows = [measure(name, args.images, args.repeats) for name in args.models.split(",")]
    lines = ["| model | stored policy | auto here | encode s (stored / float32) | decode s (stored / float32) "
             "| speed-up of float32 | same class | max probability difference |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        decode = f"{r['decode_s']['stored']:.2f} / {r['decode_s']['float32']:.2f}" if "decode_s" in r else "-"
        agree = (f"{r['same_class']:.4f} | {r['max_probability_difference']:.4f}" if "same_class" in r
                 else "- | -")
        lines.append(f"| {r['model']} | {r['stored_policy']} | {r['auto']} | {r['encode_s']['stored']:.2f} / "
                     f"{r['encode_s']['float32']:.2f} | {decode} | {r['speedup']:.2f}x | {agree} |")
    harness.write({"machine": harness.machine(), "rows": rows}, args.output, "\n".join(lines))


def add_arguments(parser):
    parser.add_argument("--models", default="cnn_mnist,ac_co_v1_mse_mnist,se_nc_mnist",
                        help="comma-separated zoo names (`keraslosses pretrained list`)")
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default="benchmarks/results/inference.json")
    parser.set_defaults(run=run)


def main(argv=None):
    return harness.main("bench_inference", __doc__.splitlines()[0], add_arguments, argv)
