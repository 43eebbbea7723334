"""The recording rule on awkward cases: row-wise apply, caught exceptions, helper modules."""
import pandas as pd

import rules_helper

df = pd.DataFrame({"a": range(500), "b": range(500)})
df["s"] = df.apply(lambda r: r["a"] + r["b"], axis=1)
try:
    df["missing"]
except KeyError:
    print("caught")
clean = rules_helper.tidy(df)
summary = clean.describe()
print(len(clean), summary.shape)
