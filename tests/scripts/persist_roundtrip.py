import pickle, joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

class Box:
    def __init__(self, v): self.v = v

df = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10) % 3})
m = LinearRegression().fit(df[["a"]], df["b"])
with open("df.pkl", "wb") as f:
    pickle.dump(df, f)
pickle.dump(m, open("m.pkl", "wb"))
loaded = pickle.load(open("df.pkl", "rb"))
with open("m.pkl", "rb") as fh:
    model = pickle.load(fh)
joblib.dump(m, "m.joblib")
m2 = joblib.load("m.joblib")
pickle.dump(Box(3), open("box.pkl", "wb"))
b = pickle.load(open("box.pkl", "rb"))
arr = df["a"].to_numpy()
np.save("a.npy", arr)
a2 = np.load("a.npy")
arr.tofile("a.bin")
a3 = np.fromfile("a.bin")
s = pickle.dumps(loaded)
l2 = pickle.loads(s)
print(b.v, loaded.shape, type(model).__name__, m2.coef_.round(3), a2.sum(), a3.sum(), l2.shape)
