"""Two ops, then a KeyboardInterrupt raised in the script's own code."""

import pandas as pd


def step(df):
    df = df.dropna()
    raise KeyboardInterrupt


df = pd.DataFrame({"a": [1.0, None, 3.0]})
print("before", flush=True)
step(df)
print("not reached")
