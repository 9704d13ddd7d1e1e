"""The Autonets paper's figures (Kamal & Bae, Tables 1-3), shipped with the
package: `autonets_tables.json` beside this module is a copy of the
project's transcription (`shared/paper/autonets_tables.json`, keyed by the
registry names; its "source" field names the paper and where the figures
were read).

`figures(dataset, model)` returns what the paper reports for one cell row:
Table 1's "separability" and "reconstruction", Table 2's "accuracy" and
Table 3's macro "f1", "precision" and "recall" (Table 3 names the
Auto-classifiers by game and version only; its figures equal Table 2's MSE
variants' accuracies, so they are attached to the `_mse` models).
`meets(metric, ours, theirs)` says whether one of our figures meets the
paper's cell (`difference` by how much it is off), and `shortfalls(rows)`
lists the cells a table misses.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

TABLES = Path(__file__).with_name("autonets_tables.json")
#: The paper's metrics where lower is better; higher is better for the rest.
LOWER_IS_BETTER = frozenset({"reconstruction"})
#: The paper prints its figures to 4 decimals: ours are compared at that.
DECIMALS = 4
#: The metrics `figures` returns, in the tables' order.
METRICS = ("separability", "reconstruction", "accuracy", "f1", "precision", "recall")


@functools.lru_cache(maxsize=1)
def tables():
    """The parsed JSON (cached)."""
    return json.loads(TABLES.read_text())


def source():
    return tables()["source"]


def figures(dataset, model):
    """{metric: the paper's figure} for `model` on `dataset` ({} where the
    paper has none, e.g. on scikit-learn's digits).

        >>> figures("mnist", "se_nc")
        {'separability': 0.9898, 'reconstruction': 0.0132}
        >>> figures("mnist", "ac_nc_v2_mse")["f1"]
        0.9957
    """
    t = tables()
    result = {}
    table1 = t["table1_separability_and_reconstruction"]
    for metric in ("separability", "reconstruction"):
        value = table1[metric].get(model, {}).get(dataset)
        if value is not None:
            result[metric] = value
    accuracy = t["table2_accuracy"]["models"].get(model, {}).get(dataset)
    if accuracy is not None:
        result["accuracy"] = accuracy
    short = model[: -len("_mse")] if model.startswith("ac_") and model.endswith("_mse") else model
    for metric in ("f1", "precision", "recall"):
        value = t["table3_f1_precision_recall"][metric].get(dataset, {}).get(short)
        if value is not None:
            result[metric] = value
    return result


def meets(metric, ours, theirs):
    """Whether our figure `ours` meets the paper's `theirs` for `metric`:
    at or above it (at or below for the reconstruction error), compared at
    the paper's 4 decimals, so a tie to the printed digit is met.

        >>> meets("accuracy", 0.92414, 0.9241), meets("accuracy", 0.92384, 0.939)
        (True, False)
        >>> meets("reconstruction", 0.0120, 0.0129), meets("reconstruction", 0.0157, 0.0129)
        (True, False)
    """
    gap = difference(ours, theirs)
    return gap <= 0 if metric in LOWER_IS_BETTER else gap >= 0


def difference(ours, theirs):
    """Our figure less the paper's, ours rounded to the paper's 4 decimals
    first (a tie to the printed digit is exactly 0).

        >>> difference(0.92414, 0.9241), round(difference(0.01566, 0.0129), 4)
        (0.0, 0.0028)
    """
    return round(ours, DECIMALS) - theirs


def shortfalls(rows, metrics=METRICS):
    """The paper's cells that `rows` (result rows: "model", our figure per
    metric, and "paper": `figures(...)`) are compared on, and those missed.

    Returns:
        (cells, missed): the number of cells with both figures, and
        [(model, metric, ours, theirs)] for each missed one, in `rows`' order
        and then `metrics`' order.

        >>> rows = [{"model": "se_nc", "separability": 0.9235, "reconstruction": 0.0157,
        ...          "paper": {"separability": 0.9161, "reconstruction": 0.0129}}]
        >>> shortfalls(rows)
        (2, [('se_nc', 'reconstruction', 0.0157, 0.0129)])
    """
    cells, missed = 0, []
    for row in rows:
        for metric in metrics:
            ours, theirs = row.get(metric), row["paper"].get(metric)
            if ours is None or theirs is None:
                continue
            cells += 1
            if not meets(metric, ours, theirs):
                missed.append((row["model"], metric, ours, theirs))
    return cells, missed
