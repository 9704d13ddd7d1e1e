"""The one timing harness of the benchmark suite.

* `median_seconds(run, repeats)` / `alternate(a, b, repeats)`: wall-clock
  medians, two candidates interleaved (a, b, b, a, ...) so that both see the
  same machine state;
* `machine()`: what the figures were measured on (platform, cores,
  framework versions, the CPU's 16-bit float features);
* `write(result, path, table)`: the JSON file and the printed table;
* `main(description, add_arguments, argv)`: argparse, logging, quiet
  TensorFlow; `add_subset_arguments`: the options the subset ablations share.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import time
from pathlib import Path

#: CPU features that make 16-bit floats fast (see /proc/cpuinfo on Linux).
FLOAT16_FEATURES = ("avx512_bf16", "amx_bf16", "avx512_fp16", "amx_fp16")


def median_seconds(run, repeats):
    """Median wall-clock seconds of `run()` over `repeats` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def alternate(run_a, run_b, repeats):
    """(median seconds of run_a, of run_b), interleaving the two."""
    times_a, times_b = [], []
    runs = [(run_a, times_a), (run_b, times_b)]
    for i in range(repeats):
        for run, times in runs if i % 2 == 0 else runs[::-1]:
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    return statistics.median(times_a), statistics.median(times_b)


def cpu_features():
    """The `FLOAT16_FEATURES` this CPU has (empty where /proc/cpuinfo is absent)."""
    from models.training import cpu_flags

    flags = cpu_flags()
    return [feature for feature in FLOAT16_FEATURES if feature in flags]


def machine():
    import keras
    import tensorflow as tf

    return {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
            "float16_features": cpu_features(), "tensorflow": tf.__version__, "keras": keras.__version__}


def check_variants(names, known):
    """Each of `names` (a benchmark's `--variants`) must be one of `known`:
    a misspelt variant is refused by name before any training, not after
    the variants before it have trained."""
    from models.core.checks import check_choice

    for name in names:
        check_choice(name, "variants", tuple(known))


def write(result, path, table):
    """Write `result` as JSON to `path` and print `table`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(table)
    logging.getLogger("benchmarks").info("wrote %s", path)
    return result


def add_subset_arguments(parser, name):
    """The options of an ablation trained on a held-out subset of a training
    split: `--seeds`, `--subset`, `--data-dir`, and `--runs-dir` and `--output`
    named after the benchmark `name`."""
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--subset", type=int, default=15_000, help="training images used (a third validates)")
    parser.add_argument("--data-dir", required=True, help="folder of the canonical IDX files")
    parser.add_argument("--runs-dir", default=f"runs/bench_{name}")
    parser.add_argument("--output", default=f"benchmarks/results/{name}.json")


def main(prog, description, add_arguments, argv=None):
    """Parse `argv` with the benchmark's own arguments and run it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = argparse.ArgumentParser(prog=prog, description=description)
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args.run(args)
    return 0
