"""Precision as an argument: a dtype-policy scope that restores what was set.

Keras layers take their dtype policy from the global one when they are
built. The zoo never leaves a global change behind: `policy_scope(policy)`
sets it for the construction of one model and restores whatever was set
before, so two models of different policies can be built and trained one
after the other in one process. A built model keeps its own policy (each
layer stores it, and `GameModel` records it as its `dtype_policy`), so loss
scaling and a reload follow the model, not the global state.

    >>> import keras
    >>> from models.core.precision import policy_scope
    >>> with policy_scope("mixed_bfloat16"):
    ...     keras.config.dtype_policy().name
    'mixed_bfloat16'
    >>> keras.config.dtype_policy().name
    'float32'
"""

from __future__ import annotations

import contextlib

import keras

from models.core.checks import check_choice

#: The policies the zoo trains under.
POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


@contextlib.contextmanager
def policy_scope(policy=None):
    """Set the global Keras dtype policy inside the block (None: leave it),
    restoring the previous policy afterwards, also on an exception."""
    if policy is None:
        yield keras.config.dtype_policy()
        return
    if isinstance(policy, str) and policy not in POLICIES:
        raise ValueError(f"`dtype_policy` must be one of {list(POLICIES)} or a keras.DTypePolicy; "
                         f"received dtype_policy={policy!r}.")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield keras.config.dtype_policy()
    finally:
        keras.config.set_dtype_policy(previous)


def _retyped(config, old, new):
    """`config` (a nested Keras config) with every dtype policy named `old`
    renamed `new`; other policies (a layer pinned to float32) stay."""
    if isinstance(config, dict):
        if str(config.get("class_name", "")).endswith("DTypePolicy") and config.get("config", {}).get("name") == old:
            return {**config, "config": {**config["config"], "name": new}}
        return {key: _retyped(value, old, new) for key, value in config.items()}
    if isinstance(config, list):
        return [_retyped(value, old, new) for value in config]
    return config


def with_policy(model, policy):
    """A copy of the zoo model `model` that computes under `policy`, with the
    same weights (the variables are float32 under every policy, so nothing
    is lost): e.g. a `mixed_bfloat16` model in float32 on a CPU without
    bfloat16 instructions, where emulated bfloat16 ran the paper-size
    decoders 5-8x slower than float32. `model` itself if it already
    computes under `policy`.

    Args:
        model: a `models.GameModel`.
        policy: one of `POLICIES`.

    Returns:
        A `models.GameModel` of the same class, config and weights, whose
        every layer of `model`'s policy now has `policy`.
    """
    check_choice(policy, "policy", POLICIES)
    old = model.dtype_policy.name
    if policy == old:
        return model
    clone = model.__class__.from_config(_retyped(model.get_config(), old, policy))
    clone.set_weights(model.get_weights())
    return clone
