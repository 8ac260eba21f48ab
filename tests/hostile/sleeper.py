"""Leaves a detached process behind that holds standard output open, so that a grader waiting for
the pipe to close would never exit; and a second one in its own session."""
import os
import subprocess
from cnn_oracle import serve
from common import TARGETS, relu

subprocess.Popen(["sleep", TARGETS["sleepSeconds"]], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", TARGETS["sleepSeconds"]])
    os._exit(0)


def conv2d(inputs, params):
    raise NotImplementedError("not done")


serve({"relu": relu, "conv2d": conv2d})
