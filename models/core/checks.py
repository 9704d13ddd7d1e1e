"""Argument validators shared by the model constructors and the training
configs: a bad value raises a `ValueError` naming the argument, the value
received and what is allowed."""

from __future__ import annotations


def check_choice(value, name, choices):
    """`value` must be one of `choices`."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)}; received {name}={value!r}.")


def check_fraction(value, name):
    """`value` must lie in (0, 1]."""
    if not 0.0 < value <= 1.0:
        raise ValueError(f"`{name}` must be in (0, 1]; received {name}={value!r}.")


def check_at_least(value, name, low):
    """`value` must be an integer >= `low`."""
    if int(value) != value or value < low:
        raise ValueError(f"`{name}` must be an integer >= {low}; received {name}={value!r}.")


def check_between(value, name, low, high=float("inf")):
    """`value` must be a number in [low, high]."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
        allowed = f">= {low}" if high == float("inf") else f"in [{low}, {high}]"
        raise ValueError(f"`{name}` must be a number {allowed}; received {name}={value!r}.")
