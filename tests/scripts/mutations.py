"""In-place changes make new versions of the same object."""
import numpy as np
import pandas as pd

df = pd.DataFrame({"a": np.arange(6.0), "b": np.arange(6) % 2, "c": list("uvwxyz")})
df["d"] = df["a"] * 2
df.loc[df["b"] == 1, "a"] = 0.0
df.insert(0, "e", 1)
popped = df.pop("c")
del df["b"]
df.columns = ["E", "A", "D"]
df.at[0, "A"] = 5.0
print(df.shape, popped.shape)
