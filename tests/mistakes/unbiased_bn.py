"""Batch norm with NumPy's sample variance (ddof=1) everywhere: normalising, batchVar, the running update."""
import numpy as np
from cnn_oracle import serve


def batch_norm(inputs, params):
    x = inputs["x"]
    C = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, C) + (1,) * (x.ndim - 2)
    if params["training"]:
        mean = x.mean(axis=axes)
        var = x.var(axis=axes, ddof=1)  # the mistake
    else:
        mean, var = inputs["runningMean"], inputs["runningVar"]
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + params["eps"])
    if "weight" in inputs:
        y = y * inputs["weight"].reshape(shape)
    if "bias" in inputs:
        y = y + inputs["bias"].reshape(shape)
    out = {"y": y}
    if params["training"]:
        out["batchMean"], out["batchVar"] = mean, var
        if "runningMean" in inputs:
            m = params["momentum"]
            out["runningMean"] = (1 - m) * inputs["runningMean"] + m * mean
            out["runningVar"] = (1 - m) * inputs["runningVar"] + m * var
    return out


serve({"batchNorm": batch_norm})
