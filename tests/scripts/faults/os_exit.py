"""Three ops, then os._exit(3): no atexit, no flush, no trailer; the ops are in the log."""

import os

import pandas as pd

df = pd.DataFrame({"a": [1.0, None, 3.0]})
df = df.dropna()
df = df.fillna(0)
print("before exit", flush=True)
print("never flushed")
os._exit(3)
