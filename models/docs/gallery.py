"""The loss gallery: every regression, robust and classification loss drawn
by the library itself, its value and its gradient against the residual or
the logit, one PNG per loss.

Each figure is a `Figure` of `Curve`s; a curve names the public keraslosses
function, how the plotted variable x becomes (y_true, y_pred), and the
keyword arguments. `draw` evaluates the function and its gradient (autodiff)
on a grid, plots both panels and returns the drawn lines, which `write_page`
also stores as `gallery.json`: the numbers in the pictures, so a test can
check them against independent float64 references.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: points per curve
POINTS = 241


@dataclass(frozen=True)
class Curve:
    """One line of a figure: `loss(*inputs(x), **kwargs)` against x.

    Args:
        label: the legend entry.
        loss: the name of a keraslosses function.
        inputs: x (a tensor of shape (N,)) -> (y_true, y_pred), built with
            `keras.ops` so that the gradient reaches x.
        kwargs: the loss's keyword arguments.
    """

    label: str
    loss: str
    inputs: object
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Figure:
    """One gallery picture: its file stem, title, x axis and curves."""

    stem: str
    title: str
    xlabel: str
    curves: tuple
    x_range: tuple = (-3.0, 3.0)
    caption: str = ""


def _ops():
    from keras import ops

    return ops


# -- how x becomes (y_true, y_pred) ------------------------------------------------------
def residual(x):
    """Target 0, prediction x: the loss against the residual x."""
    ops = _ops()
    return ops.zeros_like(x)[:, None], x[:, None]


def residual_and_one(x):
    """Two dimensions with residuals (x, 1)."""
    ops = _ops()
    return ops.zeros((x.shape[0], 2), x.dtype), ops.stack([x, ops.ones_like(x)], axis=-1)


def target_one(x):
    """Target 1, prediction x (for the binary losses: label 1 and the logit x)."""
    ops = _ops()
    return ops.ones_like(x)[:, None], x[:, None]


def with_log_scale(value):
    """Target 0, prediction (mean x, log-variance or log-scale `value`)."""
    def inputs(x):
        ops = _ops()
        return ops.zeros_like(x)[:, None], ops.stack([x, ops.full_like(x, value)], axis=-1)
    return inputs


def mixture(logits):
    """A two-component Laplace mixture (means -1.5 and 1.5, log-scales 0,
    the given logits) and the target x."""
    def inputs(x):
        ops = _ops()
        ones = ops.ones_like(x)
        parameters = [logits[0] * ones, logits[1] * ones, -1.5 * ones, 1.5 * ones, 0.0 * ones, 0.0 * ones]
        return x[:, None], ops.stack(parameters, axis=-1)
    return inputs


def mean_with_log_var(value):
    """Mean x and log-variance `value`, one dimension (the VAE's KL term)."""
    def inputs(x):
        ops = _ops()
        return x[:, None], ops.full_like(x, value)[:, None]
    return inputs


def first_class(one_hot=True, classes=3):
    """Class 0 of `classes`, with logits or scores (x, 0, ..., 0)."""
    def inputs(x):
        ops = _ops()
        scores = ops.stack([x] + [ops.zeros_like(x)] * (classes - 1), axis=-1)
        if one_hot:
            labels = ops.one_hot(ops.zeros(x.shape[0], "int32"), classes)
        else:
            labels = ops.zeros((x.shape[0],), "int32")
        return labels, scores
    return inputs


def soft_target(p):
    """Target distribution (p, 1 - p), logits (x, 0)."""
    def inputs(x):
        ops = _ops()
        target = ops.convert_to_tensor(np.tile([p, 1.0 - p], (x.shape[0], 1)), x.dtype)
        return target, ops.stack([x, ops.zeros_like(x)], axis=-1)
    return inputs


def softmax_of_logit(p):
    """Target distribution (p, 1 - p), prediction softmax(x, 0)."""
    def inputs(x):
        ops = _ops()
        target, logits = soft_target(p)(x)
        return target, ops.softmax(logits, axis=-1)
    return inputs


def _sweep(loss, inputs, parameter, values, fmt="{}={}", **fixed):
    return tuple(Curve(fmt.format(parameter, v), loss, inputs, {parameter: v, **fixed}) for v in values)


FIGURES = (
    Figure("mean_absolute_error", "Mean absolute error", "residual",
           (Curve("MAE", "mean_absolute_error", residual),)),
    Figure("mean_squared_error", "Mean squared error", "residual",
           (Curve("MSE", "mean_squared_error", residual),)),
    Figure("root_mean_squared_error", "Root mean squared error", "residual r (second dimension 1)",
           (Curve("RMSE over (r, 1)", "root_mean_squared_error", residual_and_one),),
           caption="Over one dimension RMSE is |r|; with a second residual of 1 the root is smooth at r = 0."),
    Figure("huber", "Huber loss over delta", "residual",
           _sweep("huber", residual, "delta", (0.5, 1.0, 2.0))),
    Figure("squared_log_error", "Squared log error (target 1)", "prediction",
           _sweep("squared_log_error", target_one, "offset", (1.0, 0.5)), x_range=(-0.45, 5.0)),
    Figure("pinball", "Pinball (quantile) loss over tau", "residual (prediction - target)",
           _sweep("pinball", residual, "tau", (0.1, 0.5, 0.9))),
    Figure("general_robust", "Barron's general robust loss over alpha", "residual",
           _sweep("general_robust", residual, "alpha", (2.0, 1.0, 0.0, -2.0, -math.inf)), x_range=(-5.0, 5.0),
           caption="alpha = 2: L2/2; 1: pseudo-Huber; 0: Cauchy; -2: Geman-McClure; -inf: Welsch."),
    Figure("adaptive_nll", "Adaptive robust loss: negative log-likelihood over alpha (scale 1)", "residual",
           tuple(Curve(f"alpha={a}", "adaptive_nll", lambda x: (x,), {"alpha": a, "scale": 1.0})
                 for a in (0.0, 1.0, 2.0)), x_range=(-5.0, 5.0),
           caption="`AdaptiveRobustLoss` learns alpha and the scale by minimising this NLL."),
    Figure("gaussian_nll", "Gaussian negative log-likelihood over the log-variance", "residual (mean - target)",
           tuple(Curve(f"log_var={s}", "gaussian_nll", with_log_scale(s)) for s in (-1.0, 0.0, 1.0))),
    Figure("laplace_nll", "Laplace negative log-likelihood over the log-scale", "residual (location - target)",
           tuple(Curve(f"log_scale={s}", "laplace_nll", with_log_scale(s)) for s in (-1.0, 0.0, 1.0))),
    Figure("laplace_mixture_nll", "Laplace mixture NLL (components at -1.5 and 1.5)", "target",
           (Curve("equal weights", "laplace_mixture_nll", mixture((0.0, 0.0))),
            Curve("weights 0.88 / 0.12", "laplace_mixture_nll", mixture((1.0, -1.0)))), x_range=(-4.0, 4.0)),
    Figure("gaussian_kl", "KL(N(mu, sigma^2) || N(0, 1)), the VAE's KL term, over the log-variance", "mean mu",
           tuple(Curve(f"log_var={s}", "gaussian_kl", mean_with_log_var(s)) for s in (-1.0, 0.0, 1.0)),
           caption="`GaussianKL` is this term as a loss on concat([mean, log_var])."),
    Figure("binary_crossentropy", "Binary cross-entropy (label 1) over label smoothing", "logit",
           _sweep("binary_crossentropy", target_one, "label_smoothing", (0.0, 0.1, 0.3), from_logits=True),
           x_range=(-6.0, 6.0)),
    Figure("binary_focal_crossentropy", "Binary focal cross-entropy (label 1, alpha 0.25) over gamma", "logit",
           _sweep("binary_focal_crossentropy", target_one, "gamma", (0.0, 1.0, 2.0, 5.0), from_logits=True),
           x_range=(-6.0, 6.0)),
    Figure("categorical_crossentropy", "Categorical cross-entropy over label smoothing (3 classes)",
           "logit of the true class (the others 0)",
           _sweep("categorical_crossentropy", first_class(), "label_smoothing", (0.0, 0.1, 0.3), from_logits=True),
           x_range=(-6.0, 8.0), caption="With smoothing the loss has a finite minimiser: the logits stop growing."),
    Figure("sparse_categorical_crossentropy", "Sparse categorical cross-entropy over label smoothing (3 classes)",
           "logit of the true class (the others 0)",
           _sweep("sparse_categorical_crossentropy", first_class(one_hot=False), "label_smoothing", (0.0, 0.1),
                  from_logits=True), x_range=(-6.0, 8.0)),
    Figure("categorical_focal_crossentropy", "Categorical focal cross-entropy over gamma (3 classes, alpha 0.25)",
           "logit of the true class (the others 0)",
           _sweep("categorical_focal_crossentropy", first_class(), "gamma", (0.0, 1.0, 2.0, 5.0), from_logits=True),
           x_range=(-6.0, 8.0)),
    Figure("kl_divergence", "KL divergence to the target (0.8, 0.2)", "logit x (logits (x, 0))",
           (Curve("KL(p || softmax)", "kl_divergence", soft_target(0.8), {"from_logits": True}),),
           x_range=(-4.0, 6.0), caption="Zero at x = log 4, where softmax(x, 0) = (0.8, 0.2)."),
    Figure("cross_entropy", "Cross-entropy H(p, q) to p = (0.8, 0.2)", "logit x (q = softmax(x, 0))",
           (Curve("nats", "cross_entropy", softmax_of_logit(0.8)),
            Curve("bits", "cross_entropy", softmax_of_logit(0.8), {"base": 2.0})), x_range=(-4.0, 6.0)),
    Figure("entropy", "Entropy of softmax(x, 0)", "logit x",
           (Curve("nats", "entropy", lambda x: (softmax_of_logit(0.5)(x)[1],)),), x_range=(-6.0, 6.0)),
    Figure("weston_watkins_hinge", "Weston-Watkins hinge over the margin (3 classes)",
           "score of the true class (the others 0)",
           _sweep("weston_watkins_hinge", first_class(one_hot=False), "margin", (0.5, 1.0, 2.0))),
    Figure("crammer_singer_hinge", "Crammer-Singer hinge over the margin (3 classes)",
           "score of the true class (the others 0)",
           _sweep("crammer_singer_hinge", first_class(one_hot=False), "margin", (0.5, 1.0, 2.0)),
           caption="One violation counts once (the largest), where Weston-Watkins sums them."),
    Figure("multilabel_margin", "Multi-label margin (labels present: class 0)", "score of class 0 (the others 0)",
           _sweep("multilabel_margin", first_class(), "margin", (0.5, 1.0, 2.0))),
)


def evaluate(curve, x):
    """(loss, d loss / d x) of a curve on the float64 grid `x` (NumPy)."""
    import tensorflow as tf

    import keraslosses

    function = getattr(keraslosses, curve.loss)
    grid = tf.constant(x, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(grid)
        values = function(*curve.inputs(grid), **curve.kwargs)
        total = tf.reduce_sum(values)  # one point per sample: d total / d x_i = d loss_i / d x_i
    return np.asarray(values, np.float64).reshape(-1), np.asarray(tape.gradient(total, grid), np.float64)


def draw(figure, path):
    """Draws `figure` (loss and gradient panels) into the PNG `path`;
    returns the drawn lines {label: {"x", "loss", "gradient"}} read back
    from the axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.linspace(*figure.x_range, POINTS)
    fig, (loss_axis, grad_axis) = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
    for curve in figure.curves:
        loss, gradient = evaluate(curve, x)
        loss_axis.plot(x, loss, label=curve.label)
        grad_axis.plot(x, gradient, label=curve.label)
    loss_axis.set(title="loss", xlabel=figure.xlabel)
    grad_axis.set(title="gradient", xlabel=figure.xlabel)
    for axis in (loss_axis, grad_axis):
        axis.grid(alpha=0.3)
        axis.axhline(0.0, color="0.6", lw=0.6)
    if len(figure.curves) > 1:
        loss_axis.legend(fontsize=8)
    fig.suptitle(figure.title)
    fig.savefig(path, dpi=90)
    lines = {}
    for loss_line, grad_line in zip(loss_axis.get_lines(), grad_axis.get_lines()):
        if loss_line.get_label().startswith("_"):
            continue  # the zero line
        lines[loss_line.get_label()] = {"x": loss_line.get_xdata().tolist(), "loss": loss_line.get_ydata().tolist(),
                                        "gradient": grad_line.get_ydata().tolist()}
    plt.close(fig)
    return lines


def write_page(folder, figures=FIGURES):
    """Draws every figure into `folder`, with `gallery.json` (the drawn
    numbers) and `index.md` (the gallery page); returns the JSON's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    drawn = {}
    text = ["# Loss gallery", "",
            ("Every regression, robust and classification loss, drawn by the library itself when the site is built "
            "(`models/docs/gallery.py`): the loss and its gradient (autodiff) against the residual or the logit. "
            "The numbers in the pictures are in `gallery.json`; a test checks them against independent float64 "
            "references."), ""]
    for figure in figures:
        drawn[figure.stem] = draw(figure, folder / f"{figure.stem}.png")
        text += [f"## {figure.title}", "", f"{{py:func}}`keraslosses.{figure.curves[0].loss}`"
                 + (f". {figure.caption}" if figure.caption else ""),
                 "", f"![{figure.title}]({figure.stem}.png)", ""]
    (folder / "index.md").write_text("\n".join(text))
    path = folder / "gallery.json"
    path.write_text(json.dumps(drawn))
    return path

