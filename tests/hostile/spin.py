"""Loops for ever in conv2d, in a child process too (a timed-out program must not live on)."""
import os
from cnn_oracle import serve
from common import relu


def conv2d(inputs, params):
    if os.fork() == 0:
        while True:
            pass
    while True:
        pass


serve({"relu": relu, "conv2d": conv2d})
