"""PyTorch's answers to the exercises, the independent arbiter of tests/exercise-torch.test.ts.

Reads {"models": {name: model JSON}, "queries": [{"op": ..., ...}]} on standard input and writes
{"models": {name: {...}}, "torchvision": {...}, "answers": [...]} on standard output. Models are
built layer by layer as torch modules on the meta device (shapes and parameter counts without
computing anything); queries run the torch / torchvision op the exercise is about, in float64.
"""
import json
import sys

import torch
import torch.nn.functional as F
import torchvision
from torchvision import ops

torch.set_default_dtype(torch.float64)
META = torch.device("meta")


def hwc(t):
    s = list(t.shape[1:])
    return [s[1], s[2], s[0]] if len(s) == 3 else s


def build(m):
    """Our model JSON as torch modules: per layer its output [H, W, C] (or [n]), parameters and conv MACs."""
    H, W, C = m["input"]
    flows = {"input": torch.zeros(1, C, H, W, device=META)}
    prev, counts, rows = "input", {}, []
    for l in m["layers"]:
        t = l["type"]
        counts[t] = counts.get(t, 0) + 1
        name = l.get("name", f"{t}{counts[t]}")
        src = l.get("input", prev)
        xs = [flows[s] for s in (src if isinstance(src, list) else [src])]
        x = xs[0]
        mod, macs = None, 0
        if t == "conv":
            g = l.get("groups", 1)
            mod = torch.nn.Conv2d(x.shape[1], l["filters"], l["kernel"], stride=l.get("stride", 1), padding=l.get("padding", 0),
                                  dilation=l.get("dilation", 1), groups=g, bias=l.get("bias", True), device=META)
            y = mod(x)
            macs = y.numel() * (x.shape[1] // g) * l["kernel"] ** 2
        elif t in ("maxpool", "avgpool"):
            f = F.max_pool2d if t == "maxpool" else F.avg_pool2d
            y = f(x, l["kernel"], l.get("stride", l["kernel"]), l.get("padding", 0))
        elif t in ("globalavgpool", "globalmaxpool"):
            y = (F.adaptive_avg_pool2d if t == "globalavgpool" else F.adaptive_max_pool2d)(x, 1)
        elif t == "fc":
            x = x.flatten(1)
            mod = torch.nn.Linear(x.shape[1], l["units"], bias=l.get("bias", True), device=META)
            y = mod(x)
        elif t == "bn":
            mod = (torch.nn.BatchNorm2d if x.dim() == 4 else torch.nn.BatchNorm1d)(x.shape[1], device=META)
            y = x
        elif t == "add":
            y = sum(xs[1:], xs[0])
        elif t == "concat":
            y = torch.cat(xs, 1)
        elif t == "flatten":
            y = x.flatten(1)
        else:
            y = x
        flows[name] = y
        prev = name
        rows.append({"name": name, "shape": hwc(y), "params": sum(p.numel() for p in mod.parameters()) if mod else 0, "macs": macs})
    return {"rows": rows, "params": sum(r["params"] for r in rows)}


def t(x):
    return torch.tensor(x, dtype=torch.float64)


def size_or_error(f):
    try:
        return list(f().shape[2:])
    except RuntimeError as e:
        return "error: " + str(e).split("\n")[0]


def answer(q):
    op = q["op"]
    if op == "conv_size":
        (h, w), (pb, pe) = q["in"], q["pad"]
        x = F.pad(torch.zeros(1, 1, h, w, device=META), (pb, pe, pb, pe))
        return size_or_error(lambda: F.conv2d(x, torch.zeros(1, 1, q["k"], q["k"], device=META), stride=q["stride"], dilation=q["dilation"]))
    if op == "conv_params":
        return sum(p.numel() for p in torch.nn.Conv2d(q["cin"], q["filters"], q["k"], device=META).parameters())
    if op == "tconv_size":
        x = torch.zeros(1, 1, q["in"], q["in"], device=META)
        return size_or_error(lambda: F.conv_transpose2d(x, torch.zeros(1, 1, q["k"], q["k"], device=META), stride=q["stride"], padding=q["pad"], output_padding=q["outputPadding"]))
    if op == "pool_size":
        return size_or_error(lambda: F.max_pool2d(torch.zeros(1, 1, q["in"], q["in"], device=META), q["k"], q["stride"]))
    if op == "bn":
        x = t(q["maps"])[:, None]
        y = F.batch_norm(x, None, None, t([q["gamma"]]), t([q["beta"]]), training=True, eps=q["eps"])
        return {"y": y[:, 0].tolist(), "mean": x.mean().item(), "var": x.var(unbiased=False).item()}
    if op == "softmax":
        s = t(q["scores"])
        return {"p": F.softmax(s, 0).tolist(), "loss": F.cross_entropy(s[None], torch.tensor([q["target"]])).item()}
    if op == "convolve":
        a, b = t(q["a"]), t(q["b"])
        if a.dim() == 1:  # full true convolution: flip b, pad by k − 1
            return F.conv1d(a[None, None], b.flip(0)[None, None], padding=b.numel() - 1)[0, 0].tolist()
        pad = (b.shape[0] - 1, b.shape[1] - 1) if q["mode"] == "full" else (b.shape[0] // 2, b.shape[1] // 2)
        return F.conv2d(a[None, None], b.flip(0, 1)[None, None], padding=pad)[0, 0].tolist()
    if op == "roi_align":
        x = t(q["map"])[None, None]
        box = t([[0, q["x"] - 0.5, q["y"] - 0.5, q["x"] + 0.5, q["y"] + 0.5]])
        return ops.roi_align(x, box, 1, 1.0, 1, aligned=False).item()
    if op == "roi_pool":
        return ops.roi_pool(t(q["map"])[None, None], t([[0] + q["box"]]), q["out"], 1.0)[0, 0].tolist()
    if op == "nms":
        return ops.nms(t(q["boxes"]), t(q["scores"]), q["threshold"]).tolist()
    if op == "iou":
        return ops.box_iou(t([q["box1"]]), t([q["box2"]])).item()
    if op == "tconv1d":
        x, w = t(q["input"])[None, None], t(q["kernel"])[None, None]
        return F.conv_transpose1d(x, w, stride=q["stride"], padding=q.get("pad", 0), output_padding=q.get("outputPadding", 0))[0, 0].tolist()
    if op == "conv_matrix":  # column j: the conv of the j-th unit vector
        w = t(q["kernel"])[None, None]
        cols = [F.conv1d(torch.eye(q["n"])[j][None, None], w, stride=q["stride"], padding=q["pad"])[0, 0] for j in range(q["n"])]
        return torch.stack(cols, 1).tolist()
    if op == "linear":
        return F.linear(t(q["x"]), t(q["W"]), t(q["b"])).tolist()
    if op == "pool":
        f = F.max_pool2d if q["type"] == "max" else F.avg_pool2d
        return f(t(q["map"])[None, None], q["k"], q["stride"])[0, 0].tolist()
    if op == "unpool":
        x = t(q["map"])[None, None]
        if q["mode"] == "nearest":
            return F.interpolate(x, scale_factor=2, mode="nearest")[0, 0].tolist()
        idx = torch.tensor(q["positions"] if q["mode"] == "max" else [[0, 2], [8, 10]])[None, None]
        return F.max_unpool2d(x, idx, 2)[0, 0].tolist()
    raise ValueError(f"unknown query {op}")


def main():
    data = json.load(sys.stdin)
    out = {
        "models": {name: build(m) for name, m in data["models"].items()},
        "torchvision": {},
        "answers": [answer(q) for q in data["queries"]],
    }
    # only the parameters' shapes are counted: their random initialisation (2 s for VGG-16 and
    # AlexNet's 200 million values) is skipped
    for f in [n for n in dir(torch.nn.init) if n.endswith("_") and not n.startswith("_")]:
        setattr(torch.nn.init, f, lambda tensor, *args, **kwargs: tensor)
    for name in ("resnet18", "vgg16", "alexnet"):
        model = getattr(torchvision.models, name)()
        out["torchvision"][name] = {
            "params": sum(p.numel() for p in model.parameters()),
            "modules": {n: sum(p.numel() for p in mod.parameters(recurse=False)) for n, mod in model.named_modules() if any(True for _ in mod.parameters(recurse=False))},
        }
    json.dump(out, sys.stdout)


main()
