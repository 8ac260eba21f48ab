"""What every hostile Python submission shares: a correct relu and the targets the test wrote."""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "targets.json")) as f:
    TARGETS = json.load(f)


def relu(inputs, params):
    x = inputs["x"]
    return np.where((x > 0) | np.isnan(x), x, 0.0)


def attempt(what, f):
    try:
        return f"{what}: OK {str(f())[:300]}"
    except Exception as e:  # noqa: BLE001
        return f"{what}: {type(e).__name__}"
