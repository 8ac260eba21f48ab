"""A small line-protocol target for tests/conformance-command.test.ts (plain Python, no NumPy needed).

relu is right; leakyRelu uses slope 0.1 whatever the param (a wrong answer); sigmoid says it is
unsupported; tanh kills the process (a crash) when any |x| > 3, else is right; softmax is absent.
"""
import math
import os

from cnn_oracle import Unsupported, serve


def values(t):
    return t.data if hasattr(t, "data") and not hasattr(t, "dtype") else t.reshape(-1).tolist()


def shape(t):
    return list(t.shape)


def relu(i, p):
    return {"shape": shape(i["x"]), "data": [max(0.0, v) for v in values(i["x"])]}


def leaky(i, p):
    return {"shape": shape(i["x"]), "data": [v if v >= 0 else 0.1 * v for v in values(i["x"])]}


def sigmoid(i, p):
    raise Unsupported("no sigmoid here")


def tanh(i, p):
    vs = values(i["x"])
    if any(abs(v) > 3 for v in vs):
        os._exit(3)
    return {"shape": shape(i["x"]), "data": [math.tanh(v) for v in vs]}


serve({"relu": relu, "leakyRelu": leaky, "sigmoid": sigmoid, "tanh": tanh}, hello={"target": "protocol_target.py (a test)"})
