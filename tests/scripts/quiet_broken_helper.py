"""A stand-in library whose import fails."""
raise ValueError("no backend")
