"""A correct NumPy submission for examples/assignments/intro.json, served with cnn-oracle's helper.

    cnn-oracle grade examples/submissions/numpy --command "python3 student.py" --assignment examples/assignments/intro.json

Inside the grader's sandbox `cnn_oracle` is on the import path; to run this file elsewhere, copy
clients/python/cnn_oracle.py next to it. Each function gets NumPy arrays (NCHW) and the params
with their defaults filled in, and returns an array or a dict of arrays.
"""
import numpy as np
from cnn_oracle import serve


def pair(v):
    return (v, v) if isinstance(v, int) else (v[0], v[0]) if len(v) == 1 else (v[0], v[1])


def pads(padding, k, d):
    """[top, bottom, left, right] from the catalogue's padding forms."""
    if padding == "valid":
        return [0, 0, 0, 0]
    if padding == "same":
        th, tw = d[0] * (k[0] - 1), d[1] * (k[1] - 1)
        return [th // 2, th - th // 2, tw // 2, tw - tw // 2]
    if isinstance(padding, int):
        return [padding] * 4
    return [padding[0], padding[0], padding[1], padding[1]] if len(padding) == 2 else list(padding)


def windows(xp, kh, kw, sh, sw, dh, dw, Ho, Wo):
    """Every (kh, kw) window of a padded NCHW array: shape N, C, Ho, Wo, kh, kw (a view, no copy)."""
    n, c, hs, ws = xp.strides
    return np.lib.stride_tricks.as_strided(xp, (xp.shape[0], xp.shape[1], Ho, Wo, kh, kw), (n, c, hs * sh, ws * sw, hs * dh, ws * dw), writeable=False)


def conv2d(inputs, p):
    x, w, b = inputs["x"], inputs["weight"], inputs.get("bias")
    if p["flip"]:
        w = w[:, :, ::-1, ::-1]
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    (sh, sw), (dh, dw), g = pair(p["stride"]), pair(p["dilation"]), p["groups"]
    t, bo, l, r = pads(p["padding"], (kh, kw), (dh, dw))
    xp = np.pad(x, ((0, 0), (0, 0), (t, bo), (l, r)))
    Ho = (H + t + bo - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + l + r - dw * (kw - 1) - 1) // sw + 1
    win = windows(xp, kh, kw, sh, sw, dh, dw, Ho, Wo)
    og = O // g
    y = np.concatenate([np.einsum("nchwij,ocij->nohw", win[:, k * Cg:(k + 1) * Cg], w[k * og:(k + 1) * og]) for k in range(g)], axis=1)
    return y + (b.reshape(1, O, 1, 1) if b is not None else 0)


def max_pool2d(inputs, p):
    x = inputs["x"]
    N, C, H, W = x.shape
    kh, kw = pair(p["kernelSize"])
    sh, sw = pair(p["stride"] if p["stride"] is not None else p["kernelSize"])
    dh, dw = pair(p["dilation"])
    t, bo, l, r = pads(p["padding"], (kh, kw), (dh, dw))

    def size(n, k, s, d, a, e):
        out = (n + a + e - d * (k - 1) - 1 + (s - 1 if p["ceilMode"] else 0)) // s + 1
        return out - 1 if p["ceilMode"] and (out - 1) * s >= n + a else out  # the last window starts inside

    Ho, Wo = size(H, kh, sh, dh, t, bo), size(W, kw, sw, dw, l, r)
    extra_h = max(0, (Ho - 1) * sh + dh * (kh - 1) + 1 - (H + t))
    extra_w = max(0, (Wo - 1) * sw + dw * (kw - 1) + 1 - (W + l))
    xp = np.pad(x, ((0, 0), (0, 0), (t, extra_h), (l, extra_w)), constant_values=-np.inf)  # padding is never chosen
    flat = windows(xp, kh, kw, sh, sw, dh, dw, Ho, Wo).reshape(N, C, Ho, Wo, kh * kw)
    nan = np.isnan(flat)
    # NaN propagates (the last NaN wins the index, as PyTorch); ties go to the first cell
    arg = np.where(nan.any(-1), kh * kw - 1 - np.argmax(nan[..., ::-1], -1), np.argmax(np.where(nan, -np.inf, flat), -1))
    y = np.take_along_axis(flat, arg[..., None], -1)[..., 0]
    if not p["returnIndices"]:
        return y
    i, j = np.divmod(arg, kw)
    rows = np.arange(Ho).reshape(1, 1, Ho, 1) * sh - t + i * dh
    cols = np.arange(Wo).reshape(1, 1, 1, Wo) * sw - l + j * dw
    return {"y": y, "indices": (rows * W + cols).astype(np.int64)}


def relu(inputs, p):
    x = inputs["x"]
    return np.where((x > 0) | np.isnan(x), x, 0.0)


def linear(inputs, p):
    x, w, b = inputs["x"], inputs["weight"], inputs.get("bias")
    return x @ w.T + (b if b is not None else 0)


def softmax(inputs, p):
    x = inputs["x"]
    e = np.exp(x - x.max(axis=p["dim"], keepdims=True))
    return e / e.sum(axis=p["dim"], keepdims=True)


def batch_norm(inputs, p):
    x = inputs["x"]
    C = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, C) + (1,) * (x.ndim - 2)
    if p["training"]:
        mean, var = x.mean(axis=axes), x.var(axis=axes)  # the biased variance
    else:
        mean, var = inputs["runningMean"], inputs["runningVar"]
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + p["eps"])
    if "weight" in inputs:
        y = y * inputs["weight"].reshape(shape)
    if "bias" in inputs:
        y = y + inputs["bias"].reshape(shape)
    out = {"y": y}
    if p["training"]:
        out["batchMean"], out["batchVar"] = mean, var
        if "runningMean" in inputs:
            n = x.size // C
            stored = var * n / (n - 1) if p["runningVarEstimator"] == "unbiased" else var
            out["runningMean"] = (1 - p["momentum"]) * inputs["runningMean"] + p["momentum"] * mean
            out["runningVar"] = (1 - p["momentum"]) * inputs["runningVar"] + p["momentum"] * stored
    return out


serve({"conv2d": conv2d, "maxPool2d": max_pool2d, "relu": relu, "linear": linear, "softmax": softmax, "batchNorm": batch_norm})
