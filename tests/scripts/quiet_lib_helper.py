"""A stand-in library: its body calls pandas (not the user's call) and imports a user module."""
import pandas as pd
import quiet_plugin_helper as plugin  # noqa: F401  (read by quiet_imports.py)

rows = len(pd.DataFrame({"z": [1.0, None]}).dropna())
