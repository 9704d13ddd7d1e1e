"""tf.distribute for the game models: MirroredStrategy over two logical CPUs
equals one device; two MultiWorkerMirroredStrategy workers stay in sync.

Each configuration runs in fresh interpreters (logical devices and TF_CONFIG
must be set before TensorFlow starts).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

COMMON = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np

    def data(n=32):
        rng = np.random.default_rng(0)
        y = (np.arange(n) % 3).astype("int32")
        x = rng.uniform(0, 0.2, size=(n, 8, 8, 1)).astype("float32")
        for k in range(3):
            x[y == k, 2 * k + 1:2 * k + 3] += 0.8
        return x, y

    def first_step(name, strategy):
        import keras
        import models
        x, y = data()
        with strategy.scope():
            keras.utils.set_random_seed(7)
            model = models.create(name, input_shape=(8, 8, 1), num_classes=3)
            model.compile(optimizers={p: keras.optimizers.SGD(0.1) for p in model.players})
        history = model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0).history
        return {k: float(v[0]) for k, v in history.items()}, [w.tolist() for w in model.get_weights()]
    """
)

MIRRORED = COMMON + textwrap.dedent(
    """
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    # One strategy for every model: a second MirroredStrategy in the same
    # process would reuse the first one's collective instance keys.
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    out = {}
    for name in sys.argv[1:]:
        one = first_step(name, tf.distribute.get_strategy())
        two = first_step(name, mirrored)
        out[name] = {"one": one, "two": two}
    print(json.dumps(out))
    """
)

WORKER = COMMON + textwrap.dedent(
    """
    import tensorflow as tf
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    losses, weights = first_step(sys.argv[1], strategy)
    np.savez(sys.argv[2], *[np.asarray(w) for w in weights])
    print(json.dumps(losses))
    """
)


def run_script(code, *args, env=None, timeout=300):
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


@pytest.mark.slow  # two logical devices in a subprocess: about 10 s
def test_mirrored_strategy_matches_one_device_on_the_first_step():
    names = ["ac_co_v2_mse", "se_co", "se_nc"]
    proc = run_script(MIRRORED, *names)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    results = json.loads(out.strip().splitlines()[-1])
    for name in names:
        (losses_one, weights_one), (losses_two, weights_two) = results[name]["one"], results[name]["two"]
        # Same global batch of 32 split 16 + 16: per-replica means divided by
        # the replica count, summed, equal the global mean; only float32
        # summation order differs (tolerance 1e-5).
        for term, value in losses_one.items():
            assert losses_two[term] == pytest.approx(value, rel=1e-5, abs=1e-6), (name, term)
        for a, b in zip(weights_one, weights_two):
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6, err_msg=name)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_multi_worker_processes_end_with_identical_weights(tmp_path):
    workers = [f"127.0.0.1:{_free_port()}" for _ in range(2)]
    procs = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        procs.append(run_script(WORKER, "ac_co_v1_mse", str(tmp_path / f"w{index}.npz"),
                                env={"TF_CONFIG": json.dumps(config)}))
    outputs = [p.communicate(timeout=600) for p in procs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-3000:]
    first, second = (np.load(tmp_path / f"w{i}.npz") for i in range(2))
    assert len(first.files) == len(second.files) > 0
    for key in first.files:
        np.testing.assert_array_equal(first[key], second[key])
    initial_loss = [json.loads(out.strip().splitlines()[-1])["loss"] for out, _ in outputs]
    assert initial_loss[0] == pytest.approx(initial_loss[1], rel=1e-6)
