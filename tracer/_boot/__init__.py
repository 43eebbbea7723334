"""tracer's bootstrap directory for child interpreters (see tracer/children.py).

`tracer run` puts this directory first on a traced run's PYTHONPATH, so that a child interpreter
imports `sitecustomize` from here. This file only makes the directory a package, so that it is
installed with tracer; the directory itself is never imported as `tracer._boot` at run time.
"""
