"""The generic battery: every case of the registry through every check."""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest

import keraslosses
from tests import backend as B
from tests import reference as ref
from tests.cases import CASES, Case

REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none"]
cases = pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
PAIR_LOSSES = (keraslosses.StrictCooperativeLoss, keraslosses.AdjustedCooperativeLoss)


def tensors(value, float_dtype):
    """NumPy (nested) inputs as tensors: integers stay integers."""

    def convert(x):
        x = np.asarray(x)
        if np.issubdtype(x.dtype, np.integer):
            return B.constant(x, "int32")
        return B.constant(x, float_dtype)

    return keras.tree.map_structure(convert, value)


numpy = B.as_float64


def per_sample(case: Case, t, p, dtype="float64"):
    return case.fn(tensors(t, dtype), tensors(p, dtype), **case.kwargs)


def reduced_reference(case, t, p, w, reduction):
    if case.reduced is not None:
        return case.reduced(t, p, w, reduction)
    return ref.reduce(case.reference(t, p, **case.kwargs), w, reduction)


def test_every_public_loss_has_a_case():
    public = {
        obj for name, obj in vars(keraslosses).items()
        if inspect.isclass(obj) and issubclass(obj, keras.losses.Loss) and name in keraslosses.__all__
    }
    public.discard(keraslosses.LossFunctionWrapper)
    assert public - {case.cls for case in CASES} == set()


@cases
def test_function_matches_float64_reference(case, rng):
    t, p = case.make(rng)
    got = per_sample(case, t, p, "float64")
    assert B.dtype(got) == "float64"
    np.testing.assert_allclose(numpy(got), case.reference(t, p, **case.kwargs), rtol=1e-10, atol=1e-12)


@cases
def test_function_float32_matches_reference(case, rng):
    t, p = case.make(rng)
    got = per_sample(case, t, p, "float32")
    assert B.dtype(got) == "float32"
    np.testing.assert_allclose(numpy(got), case.reference(t, p, **case.kwargs), rtol=2e-5, atol=2e-6)


@cases
def test_graph_mode_equals_eager(case, rng):
    t, p = case.make(rng)
    t, p = tensors(t, "float32"), tensors(p, "float32")
    loss = case.loss()
    graph = B.compiled(lambda a, b: loss(a, b))
    np.testing.assert_allclose(numpy(graph(t, p)), numpy(loss(t, p)), rtol=1e-6)


@cases
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_reductions_with_sample_weight(case, reduction, rng):
    t, p = case.make(rng)
    w = rng.uniform(0.0, 2.0, size=len(np.asarray(keras.tree.flatten(p)[0])))
    loss = case.loss(reduction=reduction, dtype="float64")
    got = loss(tensors(t, "float64"), tensors(p, "float64"), sample_weight=w)
    assert B.dtype(got) == "float64"
    np.testing.assert_allclose(numpy(got), reduced_reference(case, t, p, w, reduction), rtol=1e-9, atol=1e-12)
    unweighted = loss(tensors(t, "float64"), tensors(p, "float64"))
    np.testing.assert_allclose(numpy(unweighted), reduced_reference(case, t, p, None, reduction), rtol=1e-9,
                               atol=1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if c.cls not in PAIR_LOSSES], ids=lambda c: c.id)
def test_mask_on_predictions_is_applied(case, rng):
    # (Masks attach to one prediction tensor; the game losses take a pair.)
    t, p = case.make(rng)
    mask = np.array([True, False] * (len(p) // 2))
    y_pred = B.with_mask(tensors(p, "float64"), mask)
    got = case.loss(dtype="float64")(tensors(t, "float64"), y_pred)
    # Keras semantics: masked entries drop out of the mean.
    want = reduced_reference(case, t, p, mask.astype(float) * len(mask) / mask.sum(), "sum_over_batch_size")
    np.testing.assert_allclose(numpy(got), want, rtol=1e-9)


@pytest.mark.parametrize("case", [c for c in CASES if c.twin], ids=lambda c: c.id)
def test_keras_twin_agrees(case, rng):
    t, p = case.make(rng)
    ours = per_sample(case, t, p, "float32")
    np.testing.assert_allclose(numpy(ours), case.twin(tensors(t, "float32"), tensors(p, "float32")), rtol=1e-6,
                               atol=1e-6)


def _gradient_and_fd(case, t, p):
    t = tensors(t, "float64")
    leaves = [np.asarray(x, np.float64) for x in keras.tree.flatten(p)]

    def total(*values):
        return case.fn(t, keras.tree.pack_sequence_as(p, list(values)), **case.kwargs)

    _, grads = B.value_and_grads(total, leaves)
    pairs = []
    for i, (base, grad) in enumerate(zip(leaves, grads)):
        fd = np.zeros_like(base)
        for idx in np.ndindex(*base.shape):
            # Step small against the entry itself: -log(p) at p = 1e-4 has
            # a third derivative of 2e12, which a fixed 1e-6 step would feel.
            h = 1e-6 * (min(1.0, abs(base[idx])) or 1.0)
            for sign in (1, -1):
                shifted = [v.copy() for v in leaves]
                shifted[i][idx] += sign * h
                fd[idx] += sign * float(np.sum(keras.ops.convert_to_numpy(total(*shifted)))) / (2 * h)
        pairs.append((grad, fd))
    return pairs


@cases
def test_gradients_finite_and_equal_finite_differences(case, rng):
    points = [case.make(rng, 4), *case.special]
    for t, p in points:
        for grad, fd in _gradient_and_fd(case, t, p):
            assert np.isfinite(grad).all(), (case.id, p)
            np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=2e-5, err_msg=f"{case.id} at {p}")
    for t, p in case.kinks:
        for grad, _ in _gradient_and_fd(case, t, p):
            assert np.isfinite(grad).all(), (case.id, p)


@cases
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_inputs_compute_in_float32(case, dtype, rng):
    t, p = case.make(rng)
    t16, p16 = tensors(t, dtype), tensors(p, dtype)
    got = case.fn(t16, p16, **case.kwargs)
    assert B.dtype(got) == "float32"
    upcast = keras.tree.map_structure(
        lambda x: keras.ops.cast(x, "float32") if "float" in keras.backend.standardize_dtype(x.dtype) else x,
        (t16, p16))
    np.testing.assert_allclose(numpy(got), numpy(case.fn(*upcast, **case.kwargs)), rtol=1e-6)
    assert B.dtype(case.loss()(t16, p16)) == "float32"


@cases
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_policy_keeps_loss_float32(case, policy, rng):
    keras.config.set_dtype_policy(policy)
    t, p = case.make(rng)
    loss = case.loss()
    assert B.dtype(loss) == "float32"
    got = loss(tensors(t, "float16" if policy == "mixed_float16" else "bfloat16"),
               tensors(p, "float16" if policy == "mixed_float16" else "bfloat16"))
    assert B.dtype(got) == "float32" and np.isfinite(numpy(got)).all()


@cases
def test_config_is_complete_and_round_trips(case, rng):
    loss = case.loss(reduction="sum", name="custom_name", dtype="float64")
    config = loss.get_config()
    params = set(inspect.signature(case.cls.__init__).parameters) - {"self"}
    assert params <= set(config), f"get_config misses {params - set(config)}"
    assert all(config[k] == v for k, v in case.kwargs.items())
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(clone) is case.cls
    assert clone.get_config() == config
    t, p = case.make(rng)
    np.testing.assert_array_equal(numpy(clone(tensors(t, "float64"), tensors(p, "float64"))),
                                  numpy(loss(tensors(t, "float64"), tensors(p, "float64"))))


@cases
def test_saved_keras_model_round_trips_the_loss(case, tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    loss = case.loss(reduction="sum", name="saved_loss")
    model.compile(optimizer="sgd", loss=loss)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded.loss) is case.cls
    assert loaded.loss.get_config() == loss.get_config()


@pytest.mark.parametrize("case", [c for c in CASES if c.bad], ids=lambda c: c.id)
def test_bad_input_raises_value_error_naming_it(case):
    for t, p, kwargs, pattern in case.bad:
        with pytest.raises(ValueError, match=pattern):
            case.fn(t, p, **{**case.kwargs, **kwargs})
        with pytest.raises(ValueError, match=pattern):
            case.cls(**{**case.kwargs, **kwargs})(t, p)


class PairModel(keras.Model):
    """Two heads for the game losses, whose y_pred is a pair."""

    def __init__(self, shapes, activation):
        super().__init__()
        self.heads = [keras.layers.Dense(int(np.prod(s))) for s in shapes]
        self.shapes = shapes
        self.activation = activation

    def call(self, x):
        outs = [keras.ops.reshape(h(x), (-1, *s)) for h, s in zip(self.heads, self.shapes)]
        outs[0] = keras.ops.softmax(outs[0])
        outs[1] = keras.ops.sigmoid(outs[1])
        return tuple(outs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return self.probe_loss(y, y_pred, sample_weight)


@pytest.mark.parametrize("case", [
    pytest.param(c, marks=B.xfail_on_jax(B.JAX_SEMI_HARD_COSINE_FIT)) if c.id == "triplet_semi_hard_cosine" else c
    for c in CASES], ids=lambda c: c.id)
def test_model_fit_lowers_the_loss(case, rng):
    keras.utils.set_random_seed(0)
    t, p = case.make(rng, 64)
    x = rng.normal(size=(64, 8)).astype("float32")
    if isinstance(p, tuple):
        model = PairModel([np.shape(v)[1:] for v in p], case.activation)
        model.probe_loss = case.loss()
        t = keras.tree.map_structure(lambda v: np.asarray(v, "float32"), t)
    else:
        shape = np.shape(p)[1:]
        model = keras.Sequential([
            keras.Input((8,)),
            keras.layers.Dense(int(np.prod(shape))),
            keras.layers.Reshape(shape),
            keras.layers.Activation(case.activation or "linear"),
        ])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=case.loss())
    history = model.fit(x, t, batch_size=64, epochs=15, verbose=0).history["loss"]
    assert np.isfinite(history).all()
    assert history[-1] < history[0], history
