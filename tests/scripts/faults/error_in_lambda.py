"""An exception raised inside an assign lambda (a missing column), uncaught."""

import pandas as pd

df = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
df = df.assign(c=lambda d: d["a"] + d["b"])
print(list(df.columns), flush=True)
df.assign(e=lambda d: d["nope"] * 2)
