"""Forks without end."""
import os
from cnn_oracle import serve
from common import relu


def conv2d(inputs, params):
    children = 0
    try:
        while True:
            if os.fork() == 0:
                os.execvp("sleep", ["sleep", "60"])
            children += 1
    except OSError as e:
        raise RuntimeError(f"stopped after {children} children: {e}")


serve({"relu": relu, "conv2d": conv2d})
