"""Two ops, then waits on stdin until terminated from outside."""

import sys

import pandas as pd

df = pd.DataFrame({"a": [1.0, None, 3.0]}).dropna()
print("ready", flush=True)
sys.stdin.readline()  # the test sends SIGTERM and never writes
df = df.fillna(0)
print("not terminated")
