"""A user module imported by a library's body: its calls are the user's."""
import pandas as pd

frame = pd.DataFrame({"p": [1.0, None]}).fillna(0)
