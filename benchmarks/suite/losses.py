"""Loss benchmarks: keraslosses against its Keras twins, and triplet mining
against the O(B^3) tensorflow-addons formulation.

Every measurement is forward + backward (the loss and its gradient with
respect to y_pred) of one batch inside one `tf.function`, timed as the
median over repeats, with ours and the reference alternating in the same
process so that both see the same machine state. Peak memory of the triplet
losses is measured in a fresh process per configuration (the growth of the
process's maximum resident set size while the step runs), since CPU
allocations are not reported by TensorFlow.

Run `python scripts/bench_losses.py [--quick]`; results are printed as a
table and written to `benchmarks/results/losses.json`. The O(B^3)
reference is `tests.reference.cubic_semi_hard`, checked there against a
brute-force loop.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.suite import harness
from tests.reference import cubic_semi_hard

log = logging.getLogger("benchmarks.losses")
ROOT = Path(__file__).resolve().parents[2]

BATCH = 4096


@dataclasses.dataclass
class BenchConfig:
    """Benchmark settings (`--quick` lowers repeats and the triplet sizes)."""

    quick: bool = False
    output: str = "benchmarks/results/losses.json"
    repeats: int = 15
    inner: int = 5
    triplet_batches: tuple = (128, 256, 512, 1024)
    triplet_dim: int = 128

    def __post_init__(self):
        if self.quick:
            self.repeats, self.inner = 5, 3
            self.triplet_batches = tuple(b for b in self.triplet_batches if b <= 512)


# --------------------------------------------------------------------------
# the pairs
# --------------------------------------------------------------------------
def _pairs():
    """(name, width, make_inputs, ours, reference) for every compared pair."""
    import keras
    import numpy as np

    import keraslosses as kl

    rng = np.random.default_rng(0)

    def regression(width):
        return lambda: (rng.normal(size=(BATCH, width)).astype("float32"),
                        rng.normal(size=(BATCH, width)).astype("float32"))

    def onehot(width):
        return lambda: (np.eye(width, dtype="float32")[rng.integers(0, width, BATCH)],
                        rng.normal(size=(BATCH, width)).astype("float32"))

    def sparse(width):
        return lambda: (rng.integers(0, width, BATCH).astype("int32"),
                        rng.normal(size=(BATCH, width)).astype("float32"))

    def binary(width):
        return lambda: (rng.integers(0, 2, (BATCH, width)).astype("float32"),
                        rng.normal(size=(BATCH, width)).astype("float32"))

    def distributions(width):
        def make():
            p = rng.dirichlet(np.ones(width), BATCH).astype("float32")
            return p, rng.dirichlet(np.ones(width), BATCH).astype("float32")

        return make

    def positive_scores(width):
        return lambda: (np.eye(width, dtype="float32")[rng.integers(0, width, BATCH)],
                        rng.uniform(0.1, 3.0, size=(BATCH, width)).astype("float32"))

    losses = keras.losses
    pairs = [
        ("mse", 128, regression(128), kl.MeanSquaredError(), losses.MeanSquaredError()),
        ("mae", 128, regression(128), kl.MeanAbsoluteError(), losses.MeanAbsoluteError()),
        ("huber", 128, regression(128), kl.Huber(), losses.Huber()),
    ]
    for k in (10, 1000):
        pairs += [
            ("bce_logits", k, binary(k), kl.BinaryCrossentropy(from_logits=True),
             losses.BinaryCrossentropy(from_logits=True)),
            ("cce_logits", k, onehot(k), kl.CategoricalCrossentropy(from_logits=True),
             losses.CategoricalCrossentropy(from_logits=True)),
            ("scce_logits", k, sparse(k), kl.SparseCategoricalCrossentropy(from_logits=True),
             losses.SparseCategoricalCrossentropy(from_logits=True)),
            ("kl_divergence", k, distributions(k), kl.KLDivergence(), losses.KLDivergence()),
            ("categorical_focal", k, onehot(k), kl.CategoricalFocalCrossentropy(from_logits=True),
             losses.CategoricalFocalCrossentropy(from_logits=True)),
            # each side gets its own label format (ours integer labels, Keras
            # one-hot), on positive scores, where Keras' CategoricalHinge is right
            ("crammer_singer_hinge", k, positive_scores(k), kl.CrammerSingerHinge(), losses.CategoricalHinge()),
        ]
    return pairs


def _native_inputs(name, y_true, y_pred):
    """Our inputs for a pair whose Keras twin takes another label format."""
    import numpy as np

    if name == "crammer_singer_hinge":
        return np.argmax(y_true, axis=-1).astype("int32"), y_pred
    return y_true, y_pred


def _step(loss):
    import tensorflow as tf

    @tf.function
    def step(y_true, y_pred):
        with tf.GradientTape() as tape:
            tape.watch(y_pred)
            value = loss(y_true, y_pred)
        return value, tape.gradient(value, y_pred)

    return step


def compare(step_a, step_b, args_a, args_b, repeats, inner):
    """Median ms per call of two compiled steps, interleaved (see `harness.alternate`)."""
    def timed(step, args):
        def run():
            for _ in range(inner):
                out = step(*args)
            float(out[0])  # wait for the result

        return run

    step_a(*args_a), step_b(*args_b)  # trace
    a, b = harness.alternate(timed(step_a, args_a), timed(step_b, args_b), repeats)
    return 1e3 * a / inner, 1e3 * b / inner


# --------------------------------------------------------------------------
# triplet mining: ours vs the O(B^3) tensorflow-addons formulation
# --------------------------------------------------------------------------
def _triplet_inputs(batch, dim):
    import numpy as np

    rng = np.random.default_rng(batch)
    return rng.integers(0, max(2, batch // 8), batch).astype("int32"), rng.normal(size=(batch, dim)).astype("float32")


def _triplet_impls():
    import keraslosses as kl

    ours = kl.TripletLoss(margin=1.0, mining="semi_hard", squared=False)
    return {"keraslosses": ours, "tfa_cubic": cubic_semi_hard}


def _status_mb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field)) / 1024


def _peak_memory_child(impl, batch, dim):
    """Run in a fresh process: MB of resident memory the step adds at peak.

    Linux keeps the process's peak resident size (VmHWM); writing 5 to
    /proc/self/clear_refs resets it to the current size, so after tracing
    the peak of the steps themselves is measured. (No warm-up run: memory
    it freed may stay resident and hide the next run's peak.)
    """
    labels, emb = _triplet_inputs(batch, dim)
    import tensorflow as tf

    step = _step(_triplet_impls()[impl])
    args = (tf.constant(labels), tf.constant(emb))
    step.get_concrete_function(*args)  # trace
    baseline = _status_mb("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    for _ in range(3):
        float(step(*args)[0])
    print(json.dumps({"peak_mb": max(_status_mb("VmHWM") - baseline, 0.0)}))


def peak_memory_mb(impl, batch, dim):
    code = f"from benchmarks.suite.losses import _peak_memory_child; _peak_memory_child({impl!r}, {batch}, {dim})"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"memory probe {impl} B={batch} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])["peak_mb"]


def _cubic_fits_in_memory(batch):
    """The cubic formulation peaks at about four B^2 x B float32 tensors
    (1.9 GB measured at B = 512): skip sizes that would not fit in half the
    available memory."""
    need_gb = 4 * batch**3 * 4 / 2**30
    with open("/proc/meminfo") as f:
        available_kb = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable"))
    return need_gb < available_kb / 2**20 / 2, need_gb


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------
def run(config: BenchConfig) -> dict:
    import tensorflow as tf

    records = []
    for name, width, make, ours, reference in _pairs():
        y_true, y_pred = make()
        ours_args = tuple(tf.constant(v) for v in _native_inputs(name, y_true, y_pred))
        ref_args = (tf.constant(y_true), tf.constant(y_pred))
        ours_ms, ref_ms = compare(_step(ours), _step(reference), ours_args, ref_args, config.repeats, config.inner)
        records.append({"name": name, "ours": _label(ours), "reference": _label(reference), "batch": BATCH,
                        "width": width, "ours_ms": round(ours_ms, 3), "ref_ms": round(ref_ms, 3),
                        "ratio": round(ours_ms / ref_ms, 3)})
        log.info("%-22s width %-5d ours %8.3f ms  keras %8.3f ms  ratio %.3f", name, width, ours_ms, ref_ms,
                 ours_ms / ref_ms)
    triplets = []
    impls = _triplet_impls()
    for batch in config.triplet_batches:
        labels, emb = (tf.constant(v) for v in _triplet_inputs(batch, config.triplet_dim))
        fits, need_gb = _cubic_fits_in_memory(batch)
        record = {"name": "triplet_semi_hard", "batch": batch, "dim": config.triplet_dim}
        if fits:
            ours_ms, ref_ms = compare(_step(impls["keraslosses"]), _step(impls["tfa_cubic"]), (labels, emb),
                                      (labels, emb), max(3, config.repeats // 3), 1)
            record.update(ours_ms=round(ours_ms, 3), ref_ms=round(ref_ms, 3), speedup=round(ref_ms / ours_ms, 2),
                          ours_peak_mb=round(peak_memory_mb("keraslosses", batch, config.triplet_dim), 1),
                          ref_peak_mb=round(peak_memory_mb("tfa_cubic", batch, config.triplet_dim), 1))
        else:
            step = _step(impls["keraslosses"])
            ours_ms, _ = compare(step, step, (labels, emb), (labels, emb), 3, 1)
            record.update(ours_ms=round(ours_ms, 3), ref_ms=None, speedup=None,
                          ours_peak_mb=round(peak_memory_mb("keraslosses", batch, config.triplet_dim), 1),
                          ref_peak_mb=None, note=f"O(B^3) formulation not run: needs about {need_gb:.0f} GiB")
        triplets.append(record)
        log.info("triplet semi-hard B=%-5d %s", batch, record)
    result = {"config": dataclasses.asdict(config), "machine": harness.machine(), "pairs": records,
              "triplet": triplets}
    return harness.write(result, config.output, format_table(result))


def _label(loss):
    return f"{type(loss).__module__.split('.')[0]}.{type(loss).__name__}"


def format_table(result) -> str:
    lines = ["| loss | width | ours ms | keras ms | ours/keras |", "|---|---|---|---|---|"]
    lines += [f"| {r['name']} | {r['width']} | {r['ours_ms']:.3f} | {r['ref_ms']:.3f} | {r['ratio']:.3f} |"
              for r in result["pairs"]]
    lines += ["", "| triplet semi-hard B | ours ms | O(B^3) ms | speedup | ours peak MB | O(B^3) peak MB |",
              "|---|---|---|---|---|---|"]
    for r in result["triplet"]:
        ref = f"{r['ref_ms']:.1f}" if r["ref_ms"] is not None else "not run"
        speedup = f"{r['speedup']:.1f}x" if r["speedup"] is not None else "-"
        ref_mb = f"{r['ref_peak_mb']:.0f}" if r["ref_peak_mb"] is not None else r.get("note", "-")
        lines.append(f"| {r['batch']} | {r['ours_ms']:.1f} | {ref} | {speedup} | {r['ours_peak_mb']:.0f} | {ref_mb} |")
    return "\n".join(lines)


def add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true", help="fewer repeats; triplet sizes up to 512")
    parser.add_argument("--output", default=BenchConfig.output, help="JSON path (default %(default)s)")
    parser.set_defaults(run=lambda args: run(BenchConfig(quick=args.quick, output=args.output)) and 0)


def main(argv=None) -> int:
    return harness.main("bench_losses", __doc__.splitlines()[0], add_arguments, argv)


if __name__ == "__main__":
    sys.exit(main())
