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
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

TABLES = Path(__file__).with_name("autonets_tables.json")


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
