"""Chained assignments that do nothing under Copy-on-Write: pandas warns about each one.

pandas decides by the reference count of the object the method is called on, so the warnings
appear under tracer exactly when they appear under python (test_refcounts.py).
"""

import pandas as pd

df = pd.DataFrame({"a": [1.0, None, 3.0], "b": [1, 2, 3], "c": ["x", "y", "z"]})
df["a"].fillna(0, inplace=True)
df["b"][0] = 5
df["a"].replace(1.0, 2.0, inplace=True)
df["c"].loc[1] = "w"
df[["a"]].dropna(inplace=True)


def clean(frame):
    frame["a"].clip(lower=2, inplace=True)  # the same from inside a function
    return frame


clean(df)
s = df["b"]
s.fillna(0, inplace=True)  # a real variable: no warning
print(df.to_dict())
