"""An exception raised inside a watched call (merge on a missing key), uncaught."""

import pandas as pd

left = pd.DataFrame({"k": [1, 2], "a": [1.0, 2.0]})
right = pd.DataFrame({"k": [1, 2], "b": [3.0, 4.0]})
try:
    left.merge(right, on="missing")
except KeyError as exc:
    print("caught", repr(exc))
both = left.merge(right, on="k")
print(both.shape, flush=True)
both.merge(right, on="nope")
