"""Touches 400 MB (the assignment allows 256)."""
from cnn_oracle import serve
from common import relu


def conv2d(inputs, params):
    hoard = bytearray(400 * 1024 * 1024)
    for i in range(0, len(hoard), 4096):
        hoard[i] = 1
    return [0.0]


serve({"relu": relu, "conv2d": conv2d})
