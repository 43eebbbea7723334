"""Two ops, then SIGTERM to itself: the unflushed line is lost, as with python's default."""

import os
import signal

import pandas as pd

df = pd.DataFrame({"a": [1.0, None, 3.0]}).dropna()
print("before term", flush=True)
print("never flushed")  # stdout is a pipe: block-buffered, and SIGTERM kills without flushing
os.kill(os.getpid(), signal.SIGTERM)
df = df.fillna(0)  # never runs
print("not reached")
