"""Reading and writing csv, json, pickle and npz (numpy too), and reading back what was written."""

import json
import pickle

import numpy as np
import pandas as pd

df = pd.DataFrame({"k": range(6), "v": [0.5, 1.5, None, 3.5, 4.5, 5.5], "c": list("uvwxyz")})
df.to_csv("data.csv", index=False)
back = pd.read_csv("data.csv")
print(back.shape, back["v"].isna().sum())

df.to_json("data.json", orient="records", lines=True)
lines = pd.read_json("data.json", orient="records", lines=True)
df.to_json("split.json", orient="split")
with open("split.json") as f:
    print(lines.shape, json.load(f)["columns"])

df.to_pickle("frame.pkl")
with open("objects.pkl", "wb") as f:
    pickle.dump({"frame": df.dropna(), "n": 3}, f)
with open("objects.pkl", "rb") as f:
    loaded = pickle.load(f)
print(pd.read_pickle("frame.pkl").equals(df), loaded["frame"].shape, loaded["n"])

arr = df[["k", "v"]].fillna(0).to_numpy()
np.savez("arrays.npz", values=arr, keys=np.arange(3))
np.save("values.npy", arr)
with np.load("arrays.npz") as z:
    print(sorted(z.files), z["values"].sum(), np.load("values.npy").shape)
np.savetxt("values.txt", arr, fmt="%.2f")
print(np.loadtxt("values.txt").shape)
summary = back.groupby(back["k"] % 2)["v"].sum()
summary.to_csv("summary.csv")
