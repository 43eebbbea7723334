"""String methods, categoricals, datetimes and timedeltas."""

import pandas as pd

df = pd.DataFrame(
    {
        "name": ["  Alice Smith", "bob JONES ", "Carol  white", None, "dave o'neil"],
        "code": ["A-1", "B-22", "C-333", "D-4", "E-55"],
        "size": ["s", "m", "l", "m", "s"],
        "when": ["2024-01-05 10:00", "2024-02-29 23:59", "2024-03-01", "2024-12-31", "2025-01-01"],
    }
)
clean = df["name"].str.strip().str.title()
print(clean.tolist())
print(df["code"].str.split("-", expand=True)[1].astype(int).tolist())
print(df["code"].str.extract(r"([A-Z])-(\d+)")[0].tolist(), df["name"].str.contains("o").tolist())
print(df["code"].str.len().tolist(), df["code"].str.replace("-", "_").tolist())

size = df["size"].astype(pd.CategoricalDtype(["s", "m", "l"], ordered=True))
print(size.cat.codes.tolist(), size.value_counts().sort_index().to_dict(), (size > "s").tolist())

when = pd.to_datetime(df["when"], format="ISO8601")
print(when.dt.year.tolist(), when.dt.month_name().tolist(), when.dt.day_of_week.tolist())
gaps = when.diff()
print([str(g) for g in gaps], (when.max() - when.min()).days)
local = when.dt.tz_localize("UTC").dt.tz_convert("Europe/Paris")
print(local.dt.strftime("%Y-%m-%d %H:%M").tolist())
print(pd.date_range("2024-01-31", periods=4, freq="MS").strftime("%Y-%m-%d").tolist())

out = df.assign(name=clean, size=size, when=when)
out.to_csv("text_time.csv", index=False)
out.to_pickle("text_time.pkl")
print(pd.read_pickle("text_time.pkl").dtypes.astype(str).tolist())
