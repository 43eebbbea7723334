"""A tour of the op families: every way rows and columns relate between inputs and outputs."""

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

people = pd.DataFrame(
    {
        "id": range(12),
        "city": ["a", "b", "c", "a", "b", "c", "a", "b", None, "a", "b", "c"],
        "age": [31, 42, np.nan, 25, 38, 51, 29, np.nan, 44, 33, 27, 60],
        "income": [3.1, 4.2, 2.8, 2.5, 5.0, 6.1, 3.3, 4.0, 4.4, 3.9, 2.2, 7.5],
        "tags": [["x", "y"], ["y"], [], ["z"], ["x"], ["y", "z"], ["x"], [], ["z"], ["y"], ["x"], ["z"]],
    }
)
cities = pd.DataFrame({"city": ["a", "b", "c"], "region": ["north", "south", "east"]})

clean = people.dropna(subset=["age"])
clean = clean.dropna()
adults = clean[clean["age"] > 26]
q = adults.query("income > 2.4 and age < 59")
top = q.nlargest(5, "income")
ordered = q.sort_values("age").reset_index(drop=True)
dedup = ordered.drop_duplicates(subset=["city"])
first = ordered.head(4)
some = ordered.sample(n=3, random_state=1)
joined = ordered.merge(cities, on="city", how="left")
both = pd.concat([joined, joined.tail(2)], ignore_index=True)
both["ratio"] = both["income"] / both["age"]
both = both.assign(older=lambda d: d["age"] + 1, band=both["income"].round())
both.loc[both["age"] > 40, "income"] = 0.0
both.insert(0, "key", both["id"] * 10)
renamed = both.rename(columns={"income": "earnings"})
cast = renamed.astype({"age": "int64"})
wide = cast.pivot_table(index="city", columns="region", values="earnings", aggfunc="sum")
long = cast.melt(id_vars=["id"], value_vars=["age", "earnings"])
exploded = people.explode("tags")
stats = cast.groupby("city")["earnings"].mean()
counts = cast.groupby(["city", "region"]).size()
agg = cast.groupby("city").agg(total=("earnings", "sum"))
flipped = wide.T
picked = cast[["age", "earnings", "ratio"]]
filled = people["age"].fillna(people["age"].mean())
mapped = people["city"].map({"a": 1, "b": 2})
people.dropna(subset=["city"], inplace=True)
people.sort_values("income", inplace=True)

X = cast[["age", "ratio"]]
y = cast["earnings"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
scaler = StandardScaler()
Xs = scaler.fit_transform(X_train)
model = LinearRegression().fit(Xs, y_train)
pred = model.predict(scaler.transform(X_test))
out = pd.DataFrame({"pred": pred, "truth": y_test.to_numpy()})
out.to_csv("tour_out.csv", index=False)
agg.to_csv("tour_agg.csv")
print(len(out), len(agg), len(long), len(exploded), stats.round(2).to_dict(), int(counts.sum()))
print(top.shape, dedup.shape, first.shape, some.shape, flipped.shape, picked.shape)
print(round(float(filled.sum()), 3), mapped.tolist())
