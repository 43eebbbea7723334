"""explode, apply and map, MultiIndex, crosstab, cut/qcut, get_dummies, sorting, dedup."""

import numpy as np
import pandas as pd

df = pd.DataFrame(
    {
        "id": [1, 2, 3, 4],
        "tags": [["a", "b"], ["c"], [], ["a", "c", "d"]],
        "x": [1.5, -2.0, 3.25, 0.0],
        "group": ["g1", "g2", "g1", "g2"],
    }
)
exploded = df.explode("tags")
print(exploded.shape, exploded["tags"].fillna("-").tolist())
df["n_tags"] = df["tags"].apply(len)
df["sign"] = df["x"].map(lambda v: "+" if v > 0 else "-" if v < 0 else "0")
df["row"] = df.apply(lambda r: f"{r['id']}:{r['n_tags']}", axis=1)
print(df[["n_tags", "sign", "row"]].values.tolist())

mi = exploded.dropna().set_index(["group", "id"]).sort_index()
print(mi.index.nlevels, mi.xs("g1", level="group")["tags"].tolist())
print(mi.swaplevel().sort_index().index.tolist())
counts = pd.crosstab(exploded["group"], exploded["tags"].fillna("none"))
print(counts)

values = pd.Series(np.linspace(0, 10, 11))
print(pd.cut(values, 3, labels=["lo", "mid", "hi"]).astype(str).tolist())
print(pd.qcut(values, 4, labels=False).tolist())
dummies = pd.get_dummies(df["group"], prefix="g", dtype=int)
print(dummies.values.tolist())
ranked = df.sort_values(["group", "x"], ascending=[True, False]).drop_duplicates("group")
print(ranked["id"].tolist(), df.nlargest(2, "x")["id"].tolist())
print(np.log1p(df["x"].clip(lower=0)).round(4).tolist(), np.where(df["x"] > 0, 1, 0).tolist())
counts.to_csv("crosstab.csv")
