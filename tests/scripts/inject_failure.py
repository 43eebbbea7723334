"""Runs a pipeline under tracer.trace() with a recorder that fails on every op."""
import sys

import pandas as pd

import tracer
from tracer import recorder


def broken(self, *args, **kwargs):
    raise RuntimeError("injected failure")


recorder.Recorder.op_start = broken
with tracer.trace(log=sys.argv[1]):
    df = pd.DataFrame({"a": [1.0, None, 3.0]})
    for _ in range(30):
        out = df.dropna()
    print(out.shape, df["a"].sum())
