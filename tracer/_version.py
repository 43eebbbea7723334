"""The single source of tracer's version."""

__version__ = "0.1.0"
