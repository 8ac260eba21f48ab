"""cnn-oracle's grading line protocol for Python submissions.

A submission is a program that serves its operators:

    from cnn_oracle import serve

    def conv2d(inputs, params):
        x, w = inputs["x"], inputs["weight"]          # NumPy arrays (NCHW) when NumPy is installed
        ...
        return y                                       # an array, a nested list, or {name: array}

    serve({"conv2d": conv2d})

and is graded with `cnn-oracle grade FOLDER --command "python3 student.py"`. Inside the grader's
sandbox this module is on the import path; to run a submission elsewhere, copy this one file next
to it (it needs nothing but the standard library; NumPy is optional).

Each function receives (inputs, params): `inputs` maps input names to NumPy arrays (float64; int64
for index inputs such as class targets), or, without NumPy, to `Tensor` objects (`.shape`, `.data`
flat row-major, `.at(i, j, ...)`, `.tolist()`); `params` holds every param with its default filled in
(cnn-oracle's op catalogue). A function returns one output (a NumPy array, a nested list, a number,
a `Tensor`, or `{"shape", "data"}`), or a dict keyed by output name for ops with several outputs.
An exception becomes an error answer for that case, with its traceback on standard error.
`raise Unsupported("why")` says the program does not compute this case (a conformance target:
counted as unsupported, not as a failure); an op with no function is answered the same way.

What `print` writes goes to standard error (the grader's log), so it never corrupts the protocol.
With NumPy, tensors travel as base64 bytes (the protocol's binary form), which keeps large
tensors cheap; without it, as JSON numbers.
"""
import base64
import json
import math
import sys
import traceback

try:  # NumPy is optional
    import numpy as np
except ImportError:  # pragma: no cover - exercised when NumPy is absent
    np = None

__all__ = ["serve", "Tensor", "Unsupported"]

HELLO_ID = "cnn-oracle:hello"
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}
_NP_DTYPES = {"float64": "<f8", "float32": "<f4", "int64": "<i8", "int32": "<i4", "bool": "|u1"}
_INT_DTYPES = ("int64", "int32")


class Unsupported(Exception):
    """Raised by an op function for a case it does not compute: the answer says so, with the reason."""


class Tensor:
    """A tensor without NumPy: its shape and its values, flat in row-major order."""

    def __init__(self, shape, data):
        self.shape = list(shape)
        self.data = list(data)

    def at(self, *index):
        off = 0
        for i, n in zip(index, self.shape):
            off = off * n + i
        return self.data[off]

    def tolist(self):
        def nest(off, dims):
            if not dims:
                return self.data[off]
            step = 1
            for d in dims[1:]:
                step *= d
            return [nest(off + k * step, dims[1:]) for k in range(dims[0])]

        return nest(0, self.shape)

    def __repr__(self):
        return f"Tensor(shape={self.shape})"


def _number(v):
    return _NONFINITE.get(v, math.nan) if isinstance(v, str) else v


def _json_value(x):
    if isinstance(x, bool):
        return x
    if isinstance(x, float):
        if x != x:
            return "NaN"
        if x in (math.inf, -math.inf):
            return "Infinity" if x > 0 else "-Infinity"
    return x


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _decode(t):
    shape = t["shape"]
    dtype = t.get("dtype", "float64")
    if "base64" in t:
        raw = base64.b64decode(t["base64"])
        if np is None:
            raise ValueError("binary tensors need NumPy")
        a = np.frombuffer(raw, dtype=_NP_DTYPES[dtype]).reshape(shape)
        return a.astype(np.int64 if dtype in _INT_DTYPES else bool if dtype == "bool" else np.float64)
    data = [_number(v) for v in t["data"]]
    if np is not None:
        return np.array(data, dtype=np.int64 if dtype in _INT_DTYPES else bool if dtype == "bool" else np.float64).reshape(shape)
    return Tensor(shape, data)


def _shape_of(v):
    shape = []
    while isinstance(v, (list, tuple)):
        shape.append(len(v))
        if not v:
            break
        v = v[0]
    return shape


def _flatten(v, out):
    if isinstance(v, (list, tuple)):
        for item in v:
            _flatten(item, out)
    else:
        out.append(v)


def _encode(v, name, binary):
    """One output as a wire tensor."""
    if isinstance(v, Tensor):
        shape, data, dtype = v.shape, v.data, "float64"
    elif isinstance(v, dict) and "shape" in v and "data" in v:
        shape, data, dtype = list(v["shape"]), [], v.get("dtype", "float64")
        _flatten(v["data"], data)
    elif np is not None and isinstance(v, (np.ndarray, np.generic)):
        a = np.asarray(v)
        dtype = "int64" if np.issubdtype(a.dtype, np.integer) else "float64"
        # np.ascontiguousarray makes a 0-d array 1-d: reshape keeps a scalar (a loss) of shape []
        a = np.ascontiguousarray(a, dtype=np.int64 if dtype == "int64" else np.float64).reshape(a.shape)
        if binary:
            return {"shape": list(a.shape), "dtype": dtype, "base64": base64.b64encode(a.astype(_NP_DTYPES[dtype]).tobytes()).decode("ascii")}
        shape, data = list(a.shape), a.reshape(-1).tolist()
    elif isinstance(v, (int, float)):
        shape, data, dtype = [], [v], "float64"
    elif isinstance(v, (list, tuple)):
        shape, data, dtype = _shape_of(v), [], "float64"
        _flatten(v, data)
    else:
        raise TypeError(f"output {name} is a {type(v).__name__}; return an array, a nested list, a number or a dict of them")
    if _numel(shape) != len(data):
        raise ValueError(f"output {name} has {len(data)} values but shape {shape} needs {_numel(shape)}")
    return {"shape": shape, "dtype": dtype, "data": [_json_value(float(x) if not isinstance(x, bool) and dtype not in _INT_DTYPES else x) for x in data]}


def _outputs(result, names, binary):
    if isinstance(result, dict) and not ("shape" in result and "data" in result):
        out = {k: _encode(v, k, binary) for k, v in result.items() if k in names}
        if not out:
            raise ValueError(f"returned a dict with keys {sorted(result)}, but the outputs are named {names}")
        return out
    return {names[0]: _encode(result, names[0], binary)}


def serve(ops, stdin=None, stdout=None, hello=None):
    """Answers the grader's requests with the functions in `ops` (op name -> function) until end of input.

    `hello`: more fields for the answer to the hello request (e.g. {"target": "MyLib 1.2"}, which
    `cnn-oracle conformance --command` shows as the target's description)."""
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    sys.stdout = sys.stderr  # what the student prints goes to the log, never into the protocol
    binary = False

    def send(answer):
        out.write(json.dumps(answer, allow_nan=False) + "\n")
        out.flush()

    for line in stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except ValueError:
            continue
        rid = req.get("id")
        if rid == HELLO_ID:
            asked = (req.get("params") or {}).get("encodings") or []
            binary = np is not None and "base64" in asked
            send({**(hello or {}), "id": rid, "outputs": {}, "protocol": {"encodings": ["json", "base64"] if binary else ["json"]}})
            continue
        fn = ops.get(req.get("op"))
        if fn is None:
            send({"id": rid, "error": f"the submission has no function for {req.get('op')}", "errorKind": "missing"})
            continue
        try:
            inputs = {k: _decode(t) for k, t in req.get("inputs", {}).items()}
            result = fn(inputs, req.get("params", {}))
            answer = {"id": rid, "outputs": _outputs(result, req.get("outputNames") or ["y"], binary)}
        except Unsupported as e:
            answer = {"id": rid, "error": str(e) or "unsupported", "errorKind": "unsupported"}
        except Exception as e:  # noqa: BLE001 - every failure is the student's answer for this case
            traceback.print_exc(file=sys.stderr)
            answer = {"id": rid, "error": f"{type(e).__name__}: {e}"}
        send(answer)
