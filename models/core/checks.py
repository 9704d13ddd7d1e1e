"""Argument validators shared by the model constructors and the training
configs: a bad value raises a `ValueError` naming the argument, the value
received and what is allowed."""

from __future__ import annotations

import numbers


def check_choice(value, name, choices):
    """`value` must be one of `choices`."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)}; received {name}={value!r}.")


def check_fraction(value, name):
    """`value` must lie in (0, 1]."""
    check_between(value, name, 0.0, 1.0, open_low=True)


def check_at_least(value, name, low):
    """`value` must be an integer >= `low`."""
    if int(value) != value or value < low:
        raise ValueError(f"`{name}` must be an integer >= {low}; received {name}={value!r}.")


def check_between(value, name, low, high=float("inf"), *, open_low=False):
    """`value` must be a number in [low, high], or in (low, high] with `open_low`
    (a fraction of the data, which 0 would leave empty).

    Any real number passes, NumPy scalars included (a sweep over
    `np.float32` rates); a bool does not (True is no rate), nor NaN (it fails
    every comparison).
    """
    numeric = isinstance(value, numbers.Real) and not isinstance(value, bool)
    above_low = numeric and (low < value if open_low else low <= value)
    if not (above_low and value <= high):
        if high == float("inf"):
            allowed = f"{'>' if open_low else '>='} {low}"
        else:
            allowed = f"in {'(' if open_low else '['}{low}, {high}]"
        raise ValueError(f"`{name}` must be a number {allowed}; received {name}={value!r}.")
