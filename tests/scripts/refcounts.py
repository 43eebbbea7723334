"""Reference counts seen by a watched callee, printed one line per call (test_refcounts).

    python refcounts.py [BACKEND LOG]

Without arguments, plain python; with them, the same calls traced in-process by BACKEND into
LOG. The callee is refprobe_lib, put in the catalog here (the only test-only step); the
arguments are the kinds of objects a recorder might hold: frames, Series, plain objects,
containers, and the locals of a frame that has just made a C call (pickle.dumps).
"""

import os
import pickle
import sys

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def provide(module):
    from tracer.catalog.entries import Entry

    yield module.counts, Entry("probe", "refprobe_lib.counts")
    yield module.Box.counts, Entry("probe_method", "refprobe_lib.Box.counts")


def calls():
    import refprobe_lib

    df = pd.DataFrame({"a": [1.0, 2.0, None], "b": [1, 2, 3]})
    thing = object.__new__(refprobe_lib.Box)
    items = [df, 1]
    mapping = {"df": df}
    print("locals", refprobe_lib.counts(df, df["a"], thing, items, e=mapping, extra=df["b"]))
    print("temporaries", refprobe_lib.counts(df[["a"]], df["a"] + 1, [df], {"k": df}))
    blob = pickle.dumps(thing)  # a C call: its arguments are read from this frame
    print("after a C call", refprobe_lib.counts(df, thing, blob, items), len(blob) > 0)
    print("method", thing.counts(df), refprobe_lib.Box().counts(df["a"]))


if len(sys.argv) > 1:
    import tracer
    import tracer.catalog

    providers = tracer.catalog._providers
    tracer.catalog._providers = lambda: {**providers(), "refprobe_lib": provide}
    with tracer.trace(log=sys.argv[2], backend=sys.argv[1]):
        calls()
else:
    calls()
