"""Property-based tests of the bad-input rule (see `keraslosses`' docstring),
driven by the loss case registry: a new case is fuzzed with no new code.

For every case, Hypothesis draws a batch size, a seed for the case's input
maker, a dtype and an execution mode (eager, or compiled as `fit` compiles
it) and checks:

* valid inputs give finite values and finite gradients;
* NaN or +-inf anywhere in a float input gives NaN, never a finite number
  (eager mode may raise a `ValueError` first);
* an out-of-range class label is an error (eager: `ValueError`; compiled:
  the backend's runtime error) or NaN, never a finite number;
* an empty batch gives 0 with a zero gradient.

The default profile draws a few examples per case (the fast tier); set
`HYPOTHESIS_PROFILE=slow` for many more.
"""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import backend as B
from tests.cases import CASES

cases = pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
MODES = st.sampled_from(["eager", "compiled"])


def tensors(value, float_dtype):
    def convert(x):
        x = np.asarray(x)
        return B.constant(x, "int32" if np.issubdtype(x.dtype, np.integer) else float_dtype)

    return keras.tree.map_structure(convert, value)


def run(case, t, p, mode, reduction="sum_over_batch_size"):
    """The case's loss on (t, p), eagerly or compiled, as NumPy float64."""
    loss = case.loss(reduction=reduction)
    call = loss if mode == "eager" else B.compiled(lambda a, b: loss(a, b))
    return np.asarray(keras.ops.convert_to_numpy(call(t, p)), np.float64)


def _float_leaves(value):
    return [i for i, leaf in enumerate(keras.tree.flatten(value)) if not np.issubdtype(np.asarray(leaf).dtype,
                                                                                       np.integer)]


def _replace_leaf(value, index, new):
    leaves = keras.tree.flatten(value)
    leaves[index] = new
    return keras.tree.pack_sequence_as(value, leaves)


@cases
@given(batch=st.integers(1, 7), seed=st.integers(0, 2**16),
       dtype=st.sampled_from(["float16", "bfloat16", "float32", "float64"]),
       mode=MODES)
def test_valid_inputs_give_finite_values_and_gradients(case, batch, seed, dtype, mode):
    t, p = case.make(np.random.default_rng(seed), batch)
    per_sample = run(case, tensors(t, dtype), tensors(p, dtype), mode, reduction="none")
    assert np.isfinite(per_sample).all(), (case.id, per_sample)
    t64 = tensors(t, "float64")
    leaves = keras.tree.flatten(p)

    def total(*values):
        return case.loss(reduction="sum", dtype="float64")(t64, keras.tree.pack_sequence_as(p, list(values)))

    _, grads = B.value_and_grads(total, leaves)
    assert all(np.isfinite(g).all() for g in grads), case.id


@cases
@given(batch=st.integers(1, 6), seed=st.integers(0, 2**16), data=st.data(), mode=MODES,
       bad=st.sampled_from([np.nan, np.inf, -np.inf]))
def test_a_non_finite_input_never_gives_a_finite_loss(case, batch, seed, data, mode, bad):
    t, p = case.make(np.random.default_rng(seed), batch)
    targets = ["y_pred"] + ([] if case.cls.ignores_y_true or not _float_leaves(t) else ["y_true"])
    where = data.draw(st.sampled_from(targets), label="input")
    value = p if where == "y_pred" else t
    leaf = data.draw(st.sampled_from(_float_leaves(value)), label="leaf")
    poisoned = np.array(keras.tree.flatten(value)[leaf], np.float64)
    position = data.draw(st.integers(0, poisoned.size - 1), label="position")
    poisoned.flat[position] = bad
    value = _replace_leaf(value, leaf, poisoned)
    t, p = (t, value) if where == "y_pred" else (value, p)
    try:
        got = run(case, tensors(t, "float32"), tensors(p, "float32"), mode)
    except ValueError:
        assert mode == "eager" or not B.TRACES, "a compiled loss may not raise a ValueError"  # eager checks only
        return
    assert not np.isfinite(got).any(), (case.id, where, bad, got)


@pytest.mark.parametrize("case", [c for c in CASES if c.class_labels], ids=lambda c: c.id)
@given(batch=st.integers(1, 6), seed=st.integers(0, 2**16), data=st.data(), mode=MODES)
def test_an_out_of_range_class_label_is_an_error_or_nan(case, batch, seed, data, mode):
    t, p = case.make(np.random.default_rng(seed), batch)
    labels = np.array(keras.tree.flatten(t)[0])
    classes = np.shape(keras.tree.flatten(p)[0])[-1]
    labels.flat[data.draw(st.integers(0, labels.size - 1))] = data.draw(
        st.sampled_from([classes, classes + 7, -2, -1 - classes]), label="label")
    t = _replace_leaf(t, 0, labels)
    try:
        got = run(case, tensors(t, "float32"), tensors(p, "float32"), mode)
    except ValueError:
        assert mode == "eager" or not B.TRACES
        return
    except Exception as err:  # the backend's runtime check (e.g. TensorFlow's InvalidArgumentError)
        assert mode == "compiled", err
        assert "label" in str(err), err
        return
    assert np.isnan(got).all(), (case.id, labels, got)


@cases
@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_an_empty_batch_gives_zero_with_a_zero_gradient(case, mode):
    t, p = case.make(np.random.default_rng(0), 0)
    t, p = tensors(t, "float32"), tensors(p, "float32")
    assert run(case, t, p, mode).shape == () and run(case, t, p, mode) == 0.0
    leaves = keras.tree.flatten(p)

    def total(*values):
        return case.loss()(t, keras.tree.pack_sequence_as(p, list(values)))

    value, grads = B.value_and_grads(total, leaves)
    assert value == 0.0 and all(g.shape == np.shape(leaf) and not g.any() for g, leaf in zip(grads, leaves))


@pytest.mark.parametrize("case", [c for c in CASES if not c.cls.ignores_y_true], ids=lambda c: c.id)
@given(batch=st.integers(1, 6), extra=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_a_batch_size_mismatch_is_a_value_error_naming_both_shapes(case, batch, extra, seed):
    rng = np.random.default_rng(seed)
    t, _ = case.make(rng, batch)
    _, p = case.make(rng, batch + 2 * extra)  # even, for the losses that take pairs of views
    with pytest.raises(ValueError, match=r"shape") as error:
        case.loss()(tensors(t, "float32"), tensors(p, "float32"))
    # Both shapes are named (for losses that split y_pred, the parts compared).
    assert len(re.findall(r"\(\d+(?:, \d+)*,?\)", str(error.value))) >= 2, str(error.value)


UNCONSTRAINED = [c for c in CASES if c.activation is None  # no probabilities among the predictions
                 and not isinstance(c.make(np.random.default_rng(0), 1)[1], tuple)]


@pytest.mark.parametrize("case", UNCONSTRAINED, ids=lambda c: c.id)
@given(batch=st.integers(1, 5), seed=st.integers(0, 2**16), scale=st.sampled_from([1e-30, 1e-6, 1e3, 1e4]),
       mode=MODES)
def test_huge_and_tiny_unconstrained_inputs_never_give_nan(case, batch, seed, scale, mode):
    """Scores, logits, residuals and embeddings scaled far from 1 stay valid
    inputs: the loss may overflow to +inf, never to NaN."""
    t, p = case.make(np.random.default_rng(seed), batch)
    p = keras.tree.map_structure(
        lambda v: v * scale if not np.issubdtype(np.asarray(v).dtype, np.integer) else v, p)
    got = run(case, tensors(t, "float32"), tensors(p, "float32"), mode, reduction="none")
    assert not np.isnan(got).any(), (case.id, scale, got)


def test_hyperparameters_passed_positionally_are_not_inputs():
    import math

    import keraslosses as kl

    # alpha = -inf is the robust loss's Welsch limit, not a bad value, however it is passed.
    by_name = kl.general_robust([[0.0]], [[1.0]], alpha=-math.inf, scale=1.0)
    positional = kl.general_robust([[0.0]], [[1.0]], -math.inf, 1.0)
    expected = 1.0 - math.exp(-0.5)
    assert float(by_name[0]) == float(positional[0]) == pytest.approx(expected, rel=1e-6)
    assert math.isnan(float(kl.general_robust([[0.0]], [[math.nan]], -math.inf, 1.0)[0]))
