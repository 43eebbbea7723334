"""Stands for a library (the test runs it with --exclude): a helper made by exec."""
exec("def tidy(frame):\n    return frame.dropna().reset_index(drop=True)\n", globals())
