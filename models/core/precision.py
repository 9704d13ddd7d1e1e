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
