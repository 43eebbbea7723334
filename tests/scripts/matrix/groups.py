"""groupby aggregations, transform, filter, apply; rolling, expanding, ewm; resample."""

import numpy as np
import pandas as pd

rng = np.random.default_rng(7)
df = pd.DataFrame(
    {
        "team": np.repeat(["red", "blue", "green"], 8),
        "day": pd.date_range("2024-01-01", periods=24, freq="D"),
        "score": rng.integers(0, 100, size=24).astype(float),
        "hours": rng.uniform(1, 5, size=24).round(2),
    }
)
df.loc[[3, 11], "score"] = np.nan

g = df.groupby("team")
print(g["score"].sum().to_dict(), g["hours"].mean().round(3).to_dict())
print(g.agg(total=("score", "sum"), n=("score", "count"), top=("hours", "max")).round(2))
df["share"] = g["score"].transform(lambda s: s / s.sum())
print(df["share"].round(4).tolist()[:6])
busy = g.filter(lambda t: t["hours"].sum() > 20)
print(len(busy), sorted(busy["team"].unique()))
per_team = g[["score", "hours"]].apply(lambda t: (t["score"] * t["hours"]).sum())
print(per_team.round(2).to_dict())
sizes = df.groupby(["team", df["day"].dt.day_of_week]).size()
print(sizes.head(4).to_dict())

s = df.set_index("day")["hours"]
print(s.rolling(3).mean().round(3).tolist()[:5])
print(s.expanding().max().tolist()[-3:], s.ewm(span=4).mean().round(3).tolist()[-2:])
weekly = df.set_index("day").resample("W")[["score", "hours"]].sum()
print(weekly.round(2))
weekly.to_csv("weekly.csv")
