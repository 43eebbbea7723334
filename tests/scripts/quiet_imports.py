"""Imports of stand-in libraries (run with --exclude quiet_lib_helper.py and
--exclude quiet_broken_helper.py), one of which imports a module of the user's."""
import pandas as pd
import quiet_lib_helper as quiet_lib

try:
    import quiet_broken_helper  # noqa: F401
except ValueError as exc:
    print("import failed:", exc)

df = pd.DataFrame({"a": [1.0, None, 3.0]})
out = df.dropna()
print(len(out), len(quiet_lib.plugin.frame), quiet_lib.rows)
