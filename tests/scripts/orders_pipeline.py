"""An e-commerce pipeline unlike the demo: json round trip, merge, groupby agg, pivot, melt,
get_dummies, concat, rolling transform, z-score filter, GridSearchCV and cross_val_score."""
import json
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split, cross_val_score, GridSearchCV
from sklearn.ensemble import RandomForestRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline

rng = np.random.default_rng(42)
n = 3000
orders = pd.DataFrame({
    "order_id": np.arange(n),
    "customer": rng.integers(0, 300, n),
    "amount": rng.gamma(2.0, 50.0, n).round(2),
    "ts": pd.date_range("2024-01-01", periods=n, freq="h"),
    "channel": pd.Categorical(rng.choice(["web", "store", "app"], n)),
    "note": rng.choice(["ok", "late", None, "refund"], n),
})
customers = pd.DataFrame({"customer": np.arange(300), "region": rng.choice(["N", "S", "E", "W"], 300),
                          "age": rng.integers(18, 80, 300)})
orders.to_json("orders.json", orient="records", lines=True, date_format="iso")
orders = pd.read_json("orders.json", lines=True, convert_dates=["ts"])
orders["day"] = orders["ts"].dt.day_name()
orders["note"] = orders["note"].fillna("none").str.upper()
df = orders.merge(customers, on="customer", how="left")
agg = df.groupby(["region", "channel"], observed=True).agg(total=("amount", "sum"), n=("order_id", "count")).reset_index()
pivot = df.pivot_table(index="region", columns="day", values="amount", aggfunc="mean")
long = pivot.reset_index().melt(id_vars="region", var_name="day", value_name="avg")
dummies = pd.get_dummies(df["channel"], prefix="ch")
df = pd.concat([df, dummies], axis=1)
df["rolling"] = df.sort_values("ts").groupby("customer")["amount"].transform(lambda s: s.rolling(3, min_periods=1).mean())
df["z"] = (df["amount"] - df["amount"].mean()) / df["amount"].std()
df = df[np.abs(df["z"]) < 3]
df = df.drop(columns=["note"]).rename(columns={"amount": "amt"})
df.loc[df["age"] > 70, "age"] = 70
df = df.sort_values(["customer", "ts"]).reset_index(drop=True)
features = df[["age", "amt", "ch_web", "ch_store", "ch_app"]].astype(float)
target = df["rolling"]
Xtr, Xte, ytr, yte = train_test_split(features, target, test_size=0.25, random_state=0)
pipe = make_pipeline(StandardScaler(), RandomForestRegressor(n_estimators=20, random_state=0))
scores = cross_val_score(pipe, Xtr, ytr, cv=3)
grid = GridSearchCV(pipe, {"randomforestregressor__max_depth": [3, 5]}, cv=2).fit(Xtr, ytr)
pred = grid.predict(Xte)
arr = np.where(pred > 100, 1, 0)
np.savez("preds.npz", pred=pred, flag=arr)
summary = {"rows": int(len(df)), "score": round(float(grid.score(Xte, yte)), 3), "cv": [round(float(s), 3) for s in scores]}
with open("summary.json", "w") as f:
    json.dump(summary, f)
print(summary, agg.shape, long.shape)
for region, g in df.groupby("region"):
    print(region, len(g))
