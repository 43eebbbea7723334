"""Column derivation and filters in the forms people write them."""
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

rng = np.random.default_rng(0)
df = pd.DataFrame({
    "a": rng.normal(size=200), "b": rng.uniform(1, 2, size=200),
    "city": rng.choice(["x", "y", "z"], size=200), "n": rng.integers(0, 5, size=200),
})
df.loc[df.index % 17 == 0, "b"] = np.nan
df["ratio"] = df["a"] / df["b"]
df["log_n"] = np.log1p(df["n"])
df["city_code"] = df["city"].map({"x": 1, "y": 2, "z": 3})
df["big"] = df.a.apply(lambda v: v > 1)
df["n"] = df["n"].astype("float64")
clean = df.dropna(subset=["b"])
kept = clean.loc[clean["a"] > -1]
people = pd.DataFrame({"name": ["ann", "bob", "cy"], "age": [30, 40, 50]}).set_index("name")
adults = people[people["age"] > 35]
y = (kept["ratio"] > 0).astype(int)
model = Pipeline([
    ("prep", ColumnTransformer([("num", StandardScaler(), ["a", "b"]),
                                ("cat", OneHotEncoder(), ["city"])])),
    ("clf", LogisticRegression()),
])
model.fit(kept[["a", "b", "city"]], y)
proba = model.predict_proba(kept[["a", "b", "city"]])
score = model.score(kept[["a", "b", "city"]], y)
print(len(kept), len(adults), proba.shape, round(score, 2))
