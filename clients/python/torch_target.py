"""PyTorch as a cnn-oracle conformance target (and a reference submission) over the line protocol.

    cnn-oracle conformance --target pytorch            # this program, float32
    cnn-oracle conformance --target pytorch-float64    # this program, float64
    cnn-oracle conformance --command "python3 clients/python/torch_target.py --dtype float32"

Every catalogue op that torch / torchvision computes is mapped onto the call a PyTorch user would
write (torch.nn.functional, torchvision.ops), in the dtype given by --dtype: the inputs are
rounded to it, torch computes in it, and the outputs are sent back as float64. Backward ops run the
forward under autograd and call `y.backward(dy)`. What torch cannot express (asymmetric pool
padding, pixel-inclusive IoU, boxes outside torchvision's domain, ...) is answered as unsupported,
with the reason; cnn-oracle counts those cases as unsupported, not as failures.

Conventions that the catalogue fixes and torch leaves open are followed with torch's own ops and
stated where they are: NMS visits equal scores by lower index first (torchvision's order is
unspecified, so the scores handed to it are the ranks of a stable sort); batchedNms runs nms per
class (torchvision's coordinate-offset trick would shift float32 coordinates by the largest box).

Needs torch (and torchvision for the detection ops; without it those are unsupported). Debian:
`apt-get install python3-torch python3-torchvision`, then run it with /usr/bin/python3.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnn_oracle import Unsupported, serve  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

try:
    import torchvision  # noqa: F401
    from torchvision import ops as tvops
except Exception as e:  # pragma: no cover - torchvision missing or broken
    tvops = None
    TV_MISSING = f"torchvision is not importable ({type(e).__name__}: {e})"

torch.set_num_threads(1)
DT = torch.float32


# --------------------------------------------------------------------------------------------------
# helpers

def t(a):
    """A float input as a torch tensor of the target's dtype."""
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64)).to(DT)


def ti(a):
    """An index input (int64)."""
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64))


def out(x):
    """A torch tensor as the float64 (or int64) NumPy array sent back."""
    x = x.detach()
    if x.dtype in (torch.int64, torch.int32, torch.bool):
        return x.to(torch.int64).numpy()
    return x.to(torch.float64).numpy()


def per_dim(v, rank):
    if isinstance(v, (list, tuple)):
        return [int(x) for x in v] * rank if len(v) == 1 else [int(x) for x in v]
    return [int(v)] * rank


def pads_of(p, rank, kernel, dilation, stride=None, size=None):
    """Begin/end padding per spatial axis (the catalogue's forms: int, pair, per side, valid, same,
    and ONNX's SAME_UPPER / SAME_LOWER, which a PyTorch user writes as an explicit F.pad)."""
    v = p.get("padding", 0)
    if v == "valid":
        return [0] * rank, [0] * rank
    if v in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for n, k, s, d in zip(size, kernel, stride, dilation):
            total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
            small = total // 2
            b, e = (small, total - small) if v == "SAME_UPPER" else (total - small, small)
            begin.append(b)
            end.append(e)
        return begin, end
    if v == "same":
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return [x // 2 for x in total], [x - x // 2 for x in total]
    if isinstance(v, (int, float)):
        return [int(v)] * rank, [int(v)] * rank
    v = [int(x) for x in v]
    if rank == 1:
        return ([v[0]], [v[0]]) if len(v) == 1 else ([v[0]], [v[1]])
    if len(v) == 2:
        return v[:], v[:]
    return [v[0], v[2]], [v[1], v[3]]


def f_pad(begin, end):
    """F.pad's order: last dim first."""
    out_ = []
    for b, e in reversed(list(zip(begin, end))):
        out_ += [b, e]
    return out_


def sym_pool_padding(p, rank, x=None):
    v = p.get("padding", 0)
    k = per_dim(p["kernelSize"], rank)
    s = per_dim(p["stride"], rank) if p.get("stride") is not None else k
    d = per_dim(p.get("dilation", 1), rank)
    begin, end = pads_of(p, rank, k, d, s, None if x is None else list(x.shape[2:]))
    if begin != end:
        raise Unsupported("asymmetric pool padding (PyTorch pools take one padding per axis)")
    if any(b > kk // 2 for b, kk in zip(begin, k)):
        raise Unsupported("pool padding over half the kernel (PyTorch: pad should be at most half of kernel size)")
    return begin


def need_tv():
    if tvops is None:
        raise Unsupported(TV_MISSING)


def grads(fwd, inputs, wrt, dy, extra=None):
    """Runs fwd under autograd and returns {name: grad} for the leaves in `wrt`."""
    leaves = {k: v.clone().requires_grad_(True) for k, v in wrt.items()}
    y = fwd(leaves)
    if dy is None:
        dy_t = torch.ones_like(y)
    else:
        dy_t = t(dy).reshape(y.shape) if tuple(np.shape(dy)) == tuple(y.shape) else t(dy)
    y.backward(dy_t)
    return {k: (v.grad if v.grad is not None else torch.zeros_like(v)) for k, v in leaves.items()}


# --------------------------------------------------------------------------------------------------
# convolution

def conv_nd(rank):
    conv = F.conv1d if rank == 1 else F.conv2d

    def run(x, w, b, p):
        k = list(w.shape[2:])
        s = per_dim(p["stride"], rank)
        d = per_dim(p["dilation"], rank)
        begin, end = pads_of(p, rank, k, d, s, list(x.shape[2:]))
        if p.get("flip"):
            w = torch.flip(w, list(range(2, 2 + rank)))
        if begin == end:
            return conv(x, w, b, s, begin, d, int(p["groups"]))
        return conv(F.pad(x, f_pad(begin, end)), w, b, s, 0, d, int(p["groups"]))

    return run


conv1d_t, conv2d_t = conv_nd(1), conv_nd(2)


def weighted_op(f):
    """The op f(x, weight, bias or None, params) of a convolution or transposed convolution."""

    def op(i, p):
        b = t(i["bias"]) if "bias" in i else None
        return f(t(i["x"]), t(i["weight"]), b, p)

    return op


def weighted_backward(f, out_channels):
    """dx, dweight and dbias of f(x, weight, bias, params) by autograd; without a bias, one of zeros
    of out_channels(weight, params) channels (its gradient is still dbias)."""

    def op(i, p):
        x, w = t(i["x"]), t(i["weight"])
        b = t(i["bias"]) if "bias" in i else torch.zeros(out_channels(w, p), dtype=DT)
        g = grads(lambda L: f(L["x"], L["w"], L["b"], p), i, {"x": x, "w": w, "b": b}, i["dy"])
        return {"dx": g["x"], "dweight": g["w"], "dbias": g["b"]}

    return op


def conv_transpose_nd(rank):
    convt = F.conv_transpose1d if rank == 1 else F.conv_transpose2d

    def run(x, w, b, p):
        k = list(w.shape[2:])
        s = per_dim(p["stride"], rank)
        d = per_dim(p["dilation"], rank)
        op_ = per_dim(p["outputPadding"], rank)
        v = p.get("padding", 0)
        if isinstance(v, str):
            raise Unsupported("string padding for a transposed convolution")
        begin, end = pads_of(p, rank, k, d)
        g = int(p["groups"])
        if begin == end:
            return convt(x, w, b, s, begin, op_, g, d)
        # per-side padding: PyTorch takes one per axis; crop the unpadded result instead
        y = convt(x, w, b, s, 0, op_, g, d)
        idx = [slice(None), slice(None)] + [slice(bb, y.shape[2 + a] - e) for a, (bb, e) in enumerate(zip(begin, end))]
        return y[tuple(idx)]

    return run




def convolve(i, p):
    a, b = t(i["a"]), t(i["b"])
    rank = a.dim()
    if rank not in (1, 2):
        raise Unsupported("convolve of rank other than 1 or 2")
    flip = p.get("flip", True)
    k = list(b.shape)
    A = a.reshape([1, 1] + list(a.shape))
    K = b.reshape([1, 1] + k)
    if flip:
        K = torch.flip(K, list(range(2, 2 + rank)))
    conv = F.conv1d if rank == 1 else F.conv2d
    mode = p.get("mode", "full")
    if mode == "valid":
        y = conv(A, K)
    else:
        y = conv(A, K, padding=[kk - 1 for kk in k])  # full
        if mode == "same":
            idx = [0, 0] + [slice((kk - 1) // 2, (kk - 1) // 2 + n) for kk, n in zip(k, a.shape)]
            y = y[tuple(idx)]
            return y
    return y[0, 0]


# --------------------------------------------------------------------------------------------------
# pooling

def pool_args(p, rank):
    k = per_dim(p["kernelSize"], rank)
    s = per_dim(p["stride"], rank) if p.get("stride") is not None else k
    return k, s


def max_pool_nd(rank, x, p, indices=False):
    k, s = pool_args(p, rank)
    pad = sym_pool_padding(p, rank, x)
    d = per_dim(p.get("dilation", 1), rank)
    f = F.max_pool1d if rank == 1 else F.max_pool2d
    return f(x, k, s, pad, d, bool(p.get("ceilMode")), indices)


def max_pool_op(rank):
    def op(i, p):
        x = t(i["x"])
        if p.get("returnIndices"):
            y, ind = max_pool_nd(rank, x, p, True)
            return {"y": y, "indices": ind}
        return max_pool_nd(rank, x, p)

    return op


def avg_pool_nd(rank, x, p):
    k, s = pool_args(p, rank)
    pad = sym_pool_padding(p, rank, x)
    div = p.get("divisorOverride")
    if rank == 1:
        if div is not None:
            raise Unsupported("divisorOverride in 1-D (F.avg_pool1d has no divisor_override)")
        return F.avg_pool1d(x, k, s, pad, bool(p.get("ceilMode")), bool(p.get("countIncludePad", True)))
    return F.avg_pool2d(x, k, s, pad, bool(p.get("ceilMode")), bool(p.get("countIncludePad", True)), None if div is None else int(div))


def avg_pool_op(rank):
    return lambda i, p: avg_pool_nd(rank, t(i["x"]), p)


def sum_pool2d(i, p):
    # a window's sum: average pooling over the zero-padded window with divisor 1
    k, s = pool_args(p, 2)
    x = t(i["x"])
    pad = sym_pool_padding(p, 2, x)
    return F.avg_pool2d(x, k, s, pad, bool(p.get("ceilMode")), True, 1)


def lp_pool2d(i, p):
    k, s = pool_args(p, 2)
    return F.lp_pool2d(t(i["x"]), float(p["normType"]), k, s, bool(p.get("ceilMode")))


def out_size2(v):
    return per_dim(v, 2)


def max_unpool(x, ind, p):
    k = per_dim(p["kernelSize"], 2)
    s = per_dim(p["stride"], 2) if p.get("stride") is not None else k
    pad = per_dim(p.get("padding", 0), 2)
    if isinstance(p.get("padding", 0), (list, tuple)) and len(p["padding"]) == 4:
        raise Unsupported("per-side unpool padding (PyTorch takes one per axis)")
    size = p.get("outputSize")
    return F.max_unpool2d(x, ind, k, s, pad, None if size is None else [int(v) for v in size])


def upsample(x, p):
    mode = p.get("mode", "nearest")
    size = p.get("size")
    sf = p.get("scaleFactor")
    kw = {}
    if size is not None:
        kw["size"] = per_dim(size, 2)
    else:
        kw["scale_factor"] = [float(v) for v in sf] if isinstance(sf, (list, tuple)) else float(sf)
    if mode == "bilinear":
        kw["align_corners"] = bool(p.get("alignCorners"))
    elif p.get("alignCorners"):
        raise Unsupported("alignCorners with nearest (PyTorch allows it only for linear modes)")
    return F.interpolate(x, mode=mode, **kw)


# --------------------------------------------------------------------------------------------------
# normalization

def batch_norm(i, p):
    if p.get("runningVarEstimator", "unbiased") != "unbiased":
        raise Unsupported('runningVarEstimator "biased" (PyTorch stores the unbiased variance)')
    x = t(i["x"])
    w = t(i["weight"]) if "weight" in i else None
    b = t(i["bias"]) if "bias" in i else None
    rm = t(i["runningMean"]) if "runningMean" in i else None
    rv = t(i["runningVar"]) if "runningVar" in i else None
    training = bool(p.get("training"))
    y = F.batch_norm(x, rm, rv, w, b, training, float(p["momentum"]), float(p["eps"]))
    res = {"y": y}
    if training:
        dims = [0] + list(range(2, x.dim()))
        res["batchMean"] = x.mean(dims)
        res["batchVar"] = x.var(dims, unbiased=False)
        if rm is not None:
            res["runningMean"] = rm
        if rv is not None:
            res["runningVar"] = rv
    return res


def ones_or(i, name, shape):
    return t(i[name]) if name in i else torch.ones(shape, dtype=DT)


def zeros_or(i, name, shape):
    return t(i[name]) if name in i else torch.zeros(shape, dtype=DT)


def norm_shape(p):
    ns = p["normalizedShape"]
    return [int(ns)] if isinstance(ns, (int, float)) else [int(v) for v in ns]


def batch_norm_backward(i, p):
    x = t(i["x"])
    C = x.shape[1]
    w, b = ones_or(i, "weight", [C]), zeros_or(i, "bias", [C])
    g = grads(lambda L: F.batch_norm(L["x"], None, None, L["w"], L["b"], True, float(p["momentum"]), float(p["eps"])), i, {"x": x, "w": w, "b": b}, i["dy"])
    return {"dx": g["x"], "dweight": g["w"], "dbias": g["b"]}


def layer_norm_backward(i, p):
    x = t(i["x"])
    ns = norm_shape(p)
    w, b = ones_or(i, "weight", ns), zeros_or(i, "bias", ns)
    g = grads(lambda L: F.layer_norm(L["x"], ns, L["w"], L["b"], float(p["eps"])), i, {"x": x, "w": w, "b": b}, i["dy"])
    return {"dx": g["x"], "dweight": g["w"], "dbias": g["b"]}


def group_norm_backward(i, p):
    x = t(i["x"])
    C = x.shape[1]
    w, b = ones_or(i, "weight", [C]), zeros_or(i, "bias", [C])
    g = grads(lambda L: F.group_norm(L["x"], int(p["numGroups"]), L["w"], L["b"], float(p["eps"])), i, {"x": x, "w": w, "b": b}, i["dy"])
    return {"dx": g["x"], "dweight": g["w"], "dbias": g["b"]}


def local_response_norm(i, p):
    x = t(i["x"])
    if x.dim() < 3:
        raise Unsupported(f"x of rank {x.dim()} (F.local_response_norm needs 3 or more dims)")
    return F.local_response_norm(x, int(p["size"]), float(p["alpha"]), float(p["beta"]), float(p["k"]))


# --------------------------------------------------------------------------------------------------
# dense, activations, losses

def dropout(i, p):
    x = t(i["x"])
    if not p.get("training"):
        return x
    if "mask" not in i:
        raise ValueError("dropout in training needs a mask")
    prob = float(p["p"])
    mask = t(i["mask"])
    if prob == 1:
        return x * 0  # F.dropout(p=1) multiplies by a zero mask
    # F.dropout's own arithmetic with the given mask: input * (bernoulli(1 - p) / (1 - p))
    return x * (mask / (1 - prob))


def cross_entropy(logits, target, p):
    return F.cross_entropy(logits, target, reduction=p["reduction"], ignore_index=int(p["ignoreIndex"]), label_smoothing=float(p["labelSmoothing"]))


def ce_target(i):
    tg = i["target"]
    return ti(tg) if np.ndim(tg) == 1 else t(tg)


def cross_entropy_backward(i, p):
    logits = t(i["logits"])
    g = grads(lambda L: cross_entropy(L["z"], ce_target(i), p), i, {"z": logits}, i.get("dy"))
    return {"dlogits": g["z"]}


# --------------------------------------------------------------------------------------------------
# detection

def to_xyxy(b, fmt):
    if fmt == "xyxy":
        return b
    if fmt == "yxyx":
        return b[:, [1, 0, 3, 2]]
    need_tv()
    return tvops.box_convert(b, fmt, "xyxy")


def check_boxes(b, what, pixel_inclusive=False):
    if pixel_inclusive:
        raise Unsupported("pixelInclusive (torchvision's box ops have no +1 widths)")
    if b.numel() and bool(((b[:, 2] < b[:, 0]) | (b[:, 3] < b[:, 1])).any()):
        raise Unsupported(f"{what} with x2 < x1 or y2 < y1 (outside torchvision's domain: its areas are signed)")


def iou_like(i, p, fn, what):
    need_tv()
    fmt = p.get("boxFormat", "xyxy")
    b1, b2 = to_xyxy(t(i["boxes1"]), fmt), to_xyxy(t(i["boxes2"]), fmt)
    check_boxes(b1, "boxes1", p.get("pixelInclusive"))
    check_boxes(b2, "boxes2")
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
    if bool(((area(b1)[:, None] == 0) & (area(b2)[None, :] == 0)).any()):
        raise Unsupported("two empty boxes in a pair (torchvision's IoU is 0/0 = NaN there; the catalogue's is 0)")
    return fn(b1, b2)


def box_convert(i, p):
    b = t(i["boxes"])
    fi, fo = p["inFormat"], p["outFormat"]
    if fi == fo:
        return b
    xyxy = to_xyxy(b, fi)
    if fo == "xyxy":
        return xyxy
    if fo == "yxyx":
        return xyxy[:, [1, 0, 3, 2]]
    need_tv()
    return tvops.box_convert(xyxy, "xyxy", fo)


def nms_core(boxes, scores, p):
    """torchvision nms on boxes visited by decreasing score, equal scores by lower index."""
    n = boxes.shape[0]
    idx = torch.arange(n)
    thr = p.get("scoreThreshold")
    if thr is not None:
        keep_s = scores > float(thr)
        idx, boxes, scores = idx[keep_s], boxes[keep_s], scores[keep_s]
    # a stable order, handed to torchvision as distinct scores (its own sort leaves ties unspecified)
    order = torch.sort(scores.to(torch.float64), descending=True, stable=True).indices
    rank = torch.arange(order.numel(), 0, -1, dtype=DT)
    kept = tvops.nms(boxes[order], rank, float(p["iouThreshold"]))
    kept = idx[order[kept]]
    if p.get("maxOutput") is not None:
        kept = kept[: int(p["maxOutput"])]
    return kept


def nms(i, p):
    need_tv()
    boxes = to_xyxy(t(i["boxes"]), p.get("boxFormat", "xyxy"))
    check_boxes(boxes, "boxes", p.get("pixelInclusive"))
    return {"keep": nms_core(boxes, t(i["scores"]), p)}


def batched_nms(i, p):
    need_tv()
    boxes = to_xyxy(t(i["boxes"]), p.get("boxFormat", "xyxy"))
    check_boxes(boxes, "boxes", p.get("pixelInclusive"))
    scores, classes = t(i["scores"]), ti(i["classes"])
    q = {k: v for k, v in p.items() if k != "maxOutput"}
    kept = []
    for c in torch.unique(classes).tolist():
        sel = torch.nonzero(classes == c).flatten()
        kept.append(sel[nms_core(boxes[sel], scores[sel], q)])
    kept = torch.cat(kept) if kept else torch.zeros(0, dtype=torch.int64)
    # every kept box by decreasing score, equal scores by lower index
    kept = torch.sort(kept).values
    kept = kept[torch.sort(scores[kept].to(torch.float64), descending=True, stable=True).indices]
    if p.get("maxOutput") is not None:
        kept = kept[: int(p["maxOutput"])]
    return {"keep": kept}


def roi_pool(x, boxes, p):
    need_tv()
    return tvops.roi_pool(x, boxes, per_dim(p["outputSize"], 2), float(p["spatialScale"]))


def roi_align(x, boxes, p):
    need_tv()
    return tvops.roi_align(x, boxes, per_dim(p["outputSize"], 2), float(p["spatialScale"]), int(p["samplingRatio"]), bool(p["aligned"]))


# --------------------------------------------------------------------------------------------------
# the table

def dx_of(fwd, needs_dy=True):
    """A backward op whose only gradient is dx: fwd(x, inputs, params) -> y."""
    def op(i, p):
        g = grads(lambda L: fwd(L["x"], i, p), i, {"x": t(i["x"])}, i["dy"])
        return {"dx": g["x"]}

    return op


OPS = {
    "conv1d": weighted_op(conv_nd(1)),
    "conv2d": weighted_op(conv_nd(2)),
    "convTranspose1d": weighted_op(conv_transpose_nd(1)),
    "convTranspose2d": weighted_op(conv_transpose_nd(2)),
    "convolve": convolve,
    "maxPool1d": max_pool_op(1),
    "maxPool2d": max_pool_op(2),
    "avgPool1d": avg_pool_op(1),
    "avgPool2d": avg_pool_op(2),
    "sumPool2d": sum_pool2d,
    "lpPool2d": lp_pool2d,
    "adaptiveAvgPool2d": lambda i, p: F.adaptive_avg_pool2d(t(i["x"]), out_size2(p["outputSize"])),
    "adaptiveMaxPool2d": lambda i, p: F.adaptive_max_pool2d(t(i["x"]), out_size2(p["outputSize"])),
    "globalAvgPool2d": lambda i, p: F.adaptive_avg_pool2d(t(i["x"]), 1),
    "globalMaxPool2d": lambda i, p: F.adaptive_max_pool2d(t(i["x"]), 1),
    "maxUnpool2d": lambda i, p: max_unpool(t(i["x"]), ti(i["indices"]), p),
    "upsample2d": lambda i, p: upsample(t(i["x"]), p),
    "batchNorm": batch_norm,
    "layerNorm": lambda i, p: F.layer_norm(t(i["x"]), norm_shape(p), t(i["weight"]) if "weight" in i else None, t(i["bias"]) if "bias" in i else None, float(p["eps"])),
    "instanceNorm": lambda i, p: F.instance_norm(t(i["x"]), weight=t(i["weight"]) if "weight" in i else None, bias=t(i["bias"]) if "bias" in i else None, eps=float(p["eps"])),
    "groupNorm": lambda i, p: F.group_norm(t(i["x"]), int(p["numGroups"]), t(i["weight"]) if "weight" in i else None, t(i["bias"]) if "bias" in i else None, float(p["eps"])),
    "localResponseNorm": local_response_norm,
    "linear": lambda i, p: F.linear(t(i["x"]), t(i["weight"]), t(i["bias"]) if "bias" in i else None),
    "flatten": lambda i, p: torch.flatten(t(i["x"]), int(p["startDim"]), int(p["endDim"])),
    "dropout": dropout,
    "relu": lambda i, p: F.relu(t(i["x"])),
    "leakyRelu": lambda i, p: F.leaky_relu(t(i["x"]), float(p["negativeSlope"])),
    "sigmoid": lambda i, p: torch.sigmoid(t(i["x"])),
    "tanh": lambda i, p: torch.tanh(t(i["x"])),
    "hardswish": lambda i, p: F.hardswish(t(i["x"])),
    "softmax": lambda i, p: F.softmax(t(i["x"]), int(p["dim"])),
    "logSoftmax": lambda i, p: F.log_softmax(t(i["x"]), int(p["dim"])),
    "crossEntropy": lambda i, p: cross_entropy(t(i["logits"]), ce_target(i), p),
    "mseLoss": lambda i, p: F.mse_loss(t(i["input"]), t(i["target"]), reduction=p["reduction"]),
    "boxIou": lambda i, p: iou_like(i, p, tvops.box_iou, "boxIou"),
    "generalizedBoxIou": lambda i, p: iou_like(i, p, tvops.generalized_box_iou, "generalizedBoxIou"),
    "boxConvert": box_convert,
    "nms": nms,
    "batchedNms": batched_nms,
    "roiPool": lambda i, p: roi_pool(t(i["x"]), t(i["boxes"]), p),
    "roiAlign": lambda i, p: roi_align(t(i["x"]), t(i["boxes"]), p),
    # backward passes, through autograd
    # conv weights are [O, C/g, …]; transposed ones [C, O/g, …]
    "conv1dBackward": weighted_backward(conv_nd(1), lambda w, p: w.shape[0]),
    "conv2dBackward": weighted_backward(conv_nd(2), lambda w, p: w.shape[0]),
    "convTranspose2dBackward": weighted_backward(conv_transpose_nd(2), lambda w, p: w.shape[1] * int(p["groups"])),
    "linearBackward": lambda i, p: (lambda g: {"dx": g["x"], "dweight": g["w"], "dbias": g["b"]})(
        grads(lambda L: F.linear(L["x"], L["w"], L["b"]), i, {"x": t(i["x"]), "w": t(i["weight"]), "b": zeros_or(i, "bias", [np.shape(i["weight"])[0]])}, i["dy"])
    ),
    "maxPool2dBackward": dx_of(lambda x, i, p: max_pool_nd(2, x, p)),
    "avgPool2dBackward": dx_of(lambda x, i, p: avg_pool_nd(2, x, p)),
    "adaptiveAvgPool2dBackward": dx_of(lambda x, i, p: F.adaptive_avg_pool2d(x, out_size2(p["outputSize"]))),
    "batchNormBackward": batch_norm_backward,
    "layerNormBackward": layer_norm_backward,
    "groupNormBackward": group_norm_backward,
    "reluBackward": dx_of(lambda x, i, p: F.relu(x)),
    "leakyReluBackward": dx_of(lambda x, i, p: F.leaky_relu(x, float(p["negativeSlope"]))),
    "sigmoidBackward": dx_of(lambda x, i, p: torch.sigmoid(x)),
    "tanhBackward": dx_of(lambda x, i, p: torch.tanh(x)),
    "hardswishBackward": dx_of(lambda x, i, p: F.hardswish(x)),
    "softmaxBackward": dx_of(lambda x, i, p: F.softmax(x, int(p["dim"]))),
    "crossEntropyBackward": cross_entropy_backward,
    "roiAlignBackward": dx_of(lambda x, i, p: roi_align(x, t(i["boxes"]), p)),
    "roiPoolBackward": dx_of(lambda x, i, p: roi_pool(x, t(i["boxes"]), p)),
    "upsample2dBackward": dx_of(lambda x, i, p: upsample(x, p)),
    "maxUnpool2dBackward": dx_of(lambda x, i, p: max_unpool(x, ti(i["indices"]), p)),
}


def wrap(fn):
    def run(inputs, params):
        r = fn(inputs, params)
        if isinstance(r, dict):
            return {k: out(v) for k, v in r.items()}
        return out(r)

    return run


def main(argv=None):
    global DT
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    a = ap.parse_args(argv)
    DT = torch.float32 if a.dtype == "float32" else torch.float64
    torch.set_num_threads(a.threads)
    detection = {"boxIou", "generalizedBoxIou", "nms", "batchedNms", "roiPool", "roiAlign", "roiPoolBackward", "roiAlignBackward"}
    ops = {k: wrap(v) for k, v in OPS.items()}
    if tvops is None:
        for k in detection:
            ops[k] = wrap(lambda i, p: need_tv())
    serve(ops, hello={"target": f"PyTorch {torch.__version__}" + (f", torchvision {torchvision.__version__}" if tvops is not None else "") + f" ({a.dtype})"})


if __name__ == "__main__":
    main()
