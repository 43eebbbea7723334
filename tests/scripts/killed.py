"""Does three ops, then dies by SIGKILL in the middle of the pipeline."""
import os
import signal

import pandas as pd

df = pd.DataFrame({"a": [1.0, None, 3.0, 4.0], "b": list("wxyz")})
df = df.dropna()
df = df[df["a"] > 1]
print("before kill", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
df = df.fillna(0)  # never runs
