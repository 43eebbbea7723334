"""User recursion calling pandas at every level, up to python's recursion limit: caught once,
then uncaught."""

import pandas as pd

df = pd.DataFrame({"a": [1.0, None, 3.0, 4.0]})


def deeper(frame, n):
    return deeper(frame.dropna(), n + 1)


try:
    deeper(df, 0)
except RecursionError as exc:
    print("caught", type(exc).__name__)
print(df.fillna(0).shape, flush=True)
deeper(df, 0)
