"""tf.distribute: MirroredStrategy over two logical CPUs matches one device.

Logical devices must be configured before TensorFlow initialises, so the
comparison runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, numpy as np
    import keraslosses as kl

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype("float32")
    labels = rng.integers(0, 4, size=64)
    targets = rng.normal(size=(64, 4)).astype("float32")
    weights = rng.uniform(0.5, 1.5, size=64).astype("float32")
    LOSSES = {
        "scce": (lambda: kl.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=0.1), labels),
        "huber": (lambda: kl.Huber(delta=0.5), targets),
        "weston_watkins": (lambda: kl.WestonWatkinsHinge(), labels),
    }

    def run(name, strategy):
        make_loss, y = LOSSES[name]
        with strategy.scope():
            keras.utils.set_random_seed(1)
            model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4)])
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss=make_loss())
        before = model.evaluate(x, y, sample_weight=weights, batch_size=64, verbose=0)
        model.fit(x, y, sample_weight=weights, batch_size=64, epochs=1, shuffle=False, verbose=0)
        return before, [w.tolist() for w in model.get_weights()]

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    out = {name: {"one": run(name, tf.distribute.get_strategy()), "two": run(name, mirrored)} for name in LOSSES}
    print(json.dumps(out))
    """
)


@pytest.mark.slow  # two logical devices in a subprocess: about 10 s
def test_mirrored_strategy_gives_the_same_loss_and_step_as_one_device(tmp_path):
    script = tmp_path / "mirrored.py"
    script.write_text(SCRIPT)
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=root, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, runs in results.items():
        (loss_one, weights_one), (loss_two, weights_two) = runs["one"], runs["two"]
        # Same global batch: the per-replica halves average to the same loss
        # and the all-reduced gradients give the same SGD step (float32
        # summation order differs, hence the tolerance).
        assert loss_two == pytest.approx(loss_one, rel=1e-6), name
        for a, b in zip(weights_one, weights_two):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=name)
