"""Started with SIGTERM ignored: SIGTERM to itself changes nothing."""

import os
import signal

import pandas as pd

df = pd.DataFrame({"a": [1.0, None, 3.0]}).dropna()
print("ignored:", signal.getsignal(signal.SIGTERM) is signal.SIG_IGN)
os.kill(os.getpid(), signal.SIGTERM)
df = df.fillna(0)
print("survived", df.shape)
