"""The program's own SIGTERM handler: it runs, and it decides how the program ends."""

import os
import signal
import sys

import pandas as pd

df = pd.DataFrame({"a": [1.0, None, 3.0]}).dropna()


def on_term(signum, frame):
    print("handled", signum)
    if callable(previous):  # python's previous disposition is SIG_DFL: not callable
        previous(signum, frame)
    print("after previous")
    sys.exit(7)


previous = signal.signal(signal.SIGTERM, on_term)
os.kill(os.getpid(), signal.SIGTERM)
print("not reached")
