"""tracer's `sitecustomize` for the child interpreters of a traced run (see tracer/children.py).

Python imports this module at start-up because `tracer run` put its directory on PYTHONPATH.
It takes that directory off `sys.path` again (the program sees the `sys.path` it would have had
without tracer), runs the `sitecustomize` that this one shadows, if there is one (an error there
is reported by python exactly as before), then starts tracing the child if its parent run asked
for it. Whatever goes wrong on tracer's side, the child runs untraced and silent.
"""


def _boot() -> None:
    import os
    import sys

    here = os.path.normcase(os.path.dirname(os.path.abspath(__file__)))

    def ours(entry: str) -> bool:
        try:
            return os.path.normcase(os.path.abspath(entry)) == here if entry else False
        except Exception:
            return False

    sys.path[:] = [entry for entry in sys.path if not ours(entry)]
    for entry in [key for key in sys.path_importer_cache if isinstance(key, str) and ours(key)]:
        del sys.path_importer_cache[entry]

    error = None
    try:
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec("sitecustomize", sys.path)
    except Exception:
        spec = None
    if spec is not None and spec.loader is not None:
        import importlib.util

        module = importlib.util.module_from_spec(spec)
        # Python's import of "sitecustomize" returns whatever sys.modules holds at its end.
        sys.modules["sitecustomize"] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:  # python reports it, once tracing has started
            error = exc

    if os.environ.get("TRACER_PARENT_RUN"):
        try:
            from tracer import api

            api.start_from_env()
        except Exception:
            pass
    if error is not None:
        raise error


_boot()
del _boot
