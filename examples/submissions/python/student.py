#!/usr/bin/env python3
"""A correct submission in plain Python (no NumPy) for examples/assignments/intro.json.

It speaks cnn-oracle's line protocol: one JSON request a line on standard input,
{"id", "op", "inputs": {name: {"shape", "data"}}, "params"}; one JSON answer a line on standard
output, {"id", "outputs": {name: {"shape", "data"}}} or {"id", "error": "..."}.
Anything printed to standard error is kept as the log.
"""
import json
import math
import sys


def num(v):
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}.get(v, v) if isinstance(v, str) else float(v)


def out(v):
    if v != v:
        return "NaN"
    if v in (math.inf, -math.inf):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def pair(v):
    return [v, v] if isinstance(v, (int, float)) else (list(v) * 2 if len(v) == 1 else list(v))


def pads(padding, k, d):
    if padding == "valid":
        return [0, 0, 0, 0]
    if padding == "same":
        th, tw = d[0] * (k[0] - 1), d[1] * (k[1] - 1)
        return [th // 2, th - th // 2, tw // 2, tw - tw // 2]
    if isinstance(padding, int):
        return [padding] * 4
    return [padding[0], padding[0], padding[1], padding[1]] if len(padding) == 2 else list(padding)


class T:
    def __init__(self, t):
        self.shape = t["shape"]
        self.data = [num(v) for v in t["data"]]

    def at(self, *idx):
        off = 0
        for i, n in zip(idx, self.shape):
            off = off * n + i
        return self.data[off]


def conv2d(i, p):
    x, w, b = i["x"], i["weight"], i.get("bias")
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    sh, sw = pair(p["stride"])
    dh, dw = pair(p["dilation"])
    pt, pb, pl, pr = pads(p["padding"], [kh, kw], [dh, dw])
    Ho = (H + pt + pb - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + pl + pr - dw * (kw - 1) - 1) // sw + 1
    Og = O // p["groups"]
    y = []
    for n in range(N):
        for o in range(O):
            g = o // Og
            for r in range(Ho):
                for c in range(Wo):
                    s = b.at(o) if b else 0.0
                    for ci in range(Cg):
                        for a in range(kh):
                            for e in range(kw):
                                h, v = r * sh - pt + a * dh, c * sw - pl + e * dw
                                if 0 <= h < H and 0 <= v < W:
                                    wa, we = (kh - 1 - a, kw - 1 - e) if p["flip"] else (a, e)
                                    s += x.at(n, g * Cg + ci, h, v) * w.at(o, ci, wa, we)
                    y.append(s)
    return {"y": {"shape": [N, O, Ho, Wo], "data": y}}


def max_pool2d(i, p):
    x = i["x"]
    N, C, H, W = x.shape
    kh, kw = pair(p["kernelSize"])
    sh, sw = pair(p["stride"] if p.get("stride") is not None else p["kernelSize"])
    dh, dw = pair(p["dilation"])
    pt, pb, pl, pr = pads(p["padding"], [kh, kw], [dh, dw])

    def size(n, k, s, d, a, b):
        o = (n + a + b - d * (k - 1) - 1 + (s - 1 if p["ceilMode"] else 0)) // s + 1
        return o - 1 if p["ceilMode"] and (o - 1) * s >= n + a else o

    Ho, Wo = size(H, kh, sh, dh, pt, pb), size(W, kw, sw, dw, pl, pr)
    y, idx = [], []
    for n in range(N):
        for c in range(C):
            for r in range(Ho):
                for q in range(Wo):
                    best, arg = -math.inf, -1
                    for a in range(kh):
                        for e in range(kw):
                            h, v = r * sh - pt + a * dh, q * sw - pl + e * dw
                            if 0 <= h < H and 0 <= v < W:
                                val = x.at(n, c, h, v)
                                if arg < 0:
                                    arg = h * W + v
                                if val > best or val != val:
                                    best, arg = val, h * W + v
                    y.append(best)
                    idx.append(arg)
    res = {"y": {"shape": [N, C, Ho, Wo], "data": y}}
    if p["returnIndices"]:
        res["indices"] = {"shape": [N, C, Ho, Wo], "dtype": "int64", "data": idx}
    return res


def relu(i, p):
    x = i["x"]
    return {"y": {"shape": x.shape, "data": [v if v > 0 or v != v else 0.0 for v in x.data]}}


def linear(i, p):
    x, w, b = i["x"], i["weight"], i.get("bias")
    n_in, n_out = x.shape[-1], w.shape[0]
    rows = len(x.data) // n_in
    y = []
    for r in range(rows):
        for o in range(n_out):
            s = b.at(o) if b else 0.0
            for k in range(n_in):
                s += x.data[r * n_in + k] * w.at(o, k)
            y.append(s)
    return {"y": {"shape": x.shape[:-1] + [n_out], "data": y}}


def softmax(i, p):
    x = i["x"]
    d = p["dim"] % len(x.shape)
    size = x.shape[d]
    inner = 1
    for n in x.shape[d + 1:]:
        inner *= n
    outer = len(x.data) // (size * inner)
    y = [0.0] * len(x.data)
    for o in range(outer):
        for k in range(inner):
            at = [(o * size + j) * inner + k for j in range(size)]
            m = max(x.data[a] for a in at)
            s = sum(math.exp(x.data[a] - m) for a in at)
            for a in at:
                y[a] = math.exp(x.data[a] - m) / s
    return {"y": {"shape": x.shape, "data": y}}


def batch_norm(i, p):
    x, g, b = i["x"], i.get("weight"), i.get("bias")
    rm, rv = i.get("runningMean"), i.get("runningVar")
    N, C = x.shape[0], x.shape[1]
    inner = len(x.data) // (N * C)
    n = N * inner
    members = [[(bb * C + c) * inner + k for bb in range(N) for k in range(inner)] for c in range(C)]
    if p["training"]:
        mean = [sum(x.data[t] for t in m) / n for m in members]
        var = [sum((x.data[t] - mean[c]) ** 2 for t in m) / n for c, m in enumerate(members)]
    else:
        mean, var = rm.data, rv.data
    y = [0.0] * len(x.data)
    for c, m in enumerate(members):
        for t in m:
            y[t] = (x.data[t] - mean[c]) / math.sqrt(var[c] + p["eps"]) * (g.at(c) if g else 1.0) + (b.at(c) if b else 0.0)
    res = {"y": {"shape": x.shape, "data": y}}
    if p["training"]:
        res["batchMean"] = {"shape": [C], "data": mean}
        res["batchVar"] = {"shape": [C], "data": var}
        if rm and rv:
            mo = p["momentum"]
            corr = n / (n - 1) if p["runningVarEstimator"] == "unbiased" else 1.0
            res["runningMean"] = {"shape": [C], "data": [(1 - mo) * rm.data[c] + mo * mean[c] for c in range(C)]}
            res["runningVar"] = {"shape": [C], "data": [(1 - mo) * rv.data[c] + mo * var[c] * corr for c in range(C)]}
    return res


OPS = {"conv2d": conv2d, "maxPool2d": max_pool2d, "relu": relu, "linear": linear, "softmax": softmax, "batchNorm": batch_norm}

for line in sys.stdin:
    req = json.loads(line)
    try:
        fn = OPS.get(req["op"])
        if fn is None:
            raise NotImplementedError("no function for " + req["op"])
        res = fn({k: T(v) for k, v in req["inputs"].items()}, req["params"])
        for t in res.values():
            t["data"] = [out(v) if isinstance(v, float) else v for v in t["data"]]
        answer = {"id": req["id"], "outputs": res}
    except Exception as e:  # noqa: BLE001 - every failure is reported to the grader
        answer = {"id": req["id"], "error": f"{type(e).__name__}: {e}"}
    print(json.dumps(answer), flush=True)
