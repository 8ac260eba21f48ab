"""conv2d that pads only the top and the left (a student's reading of "padding p")."""
import numpy as np
from cnn_oracle import serve


def pads(padding, kh, kw, dh, dw):
    if padding == "valid":
        return 0, 0
    if padding == "same":
        return dh * (kh - 1) // 2, dw * (kw - 1) // 2
    if isinstance(padding, int):
        return padding, padding
    return padding[0], padding[1] if len(padding) == 2 else padding[2]


def conv2d(inputs, params):
    x, w = inputs["x"], inputs["weight"]
    if params["flip"]:
        w = w[:, :, ::-1, ::-1]
    b = inputs.get("bias")
    s = params["stride"]
    sh, sw = (s, s) if isinstance(s, int) else s
    d = params["dilation"]
    dh, dw = (d, d) if isinstance(d, int) else d
    g = params["groups"]
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    ph, pw = pads(params["padding"], kh, kw, dh, dw)
    xp = np.zeros((N, C, H + ph, W + pw))
    xp[:, :, ph:, pw:] = x  # the mistake: nothing added at the bottom or the right
    Ho = (H + ph - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + pw - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((N, O, Ho, Wo))
    og = O // g
    for o in range(O):
        c0 = (o // og) * Cg
        for i in range(Ho):
            for j in range(Wo):
                patch = xp[:, c0:c0 + Cg, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw]
                y[:, o, i, j] = (patch * w[o]).sum(axis=(1, 2, 3)) + (b[o] if b is not None else 0)
    return y


serve({"conv2d": conv2d})
