"""Stand-in for `python -m tracer run` while the CLI is being written: run a script or module
through ScriptRunner and exit the way the CLI will.

Usage: ``python run_driver.py [-m] target [args...]``. Everything after the target belongs to
the user's program. A missing target prints one ``tracer:`` line and exits with NoSource's exit
code; otherwise the process ends as ``python target args...`` would (except that a
KeyboardInterrupt ends with status 130 rather than death by SIGINT).
"""

from __future__ import annotations

# Imported as the CLI may have it imported (through joblib or pandas) before the script runs:
# that import aliases sys.modules["__mp_main__"] to the launcher's __main__, which the runner
# must then override.
import multiprocessing  # noqa: F401
import sys
from typing import Any

from tracer.exceptions import NoSource
from tracer.runner import ScriptRunner


def main(argv: list[str]) -> Any:
    as_module = bool(argv) and argv[0] == "-m"
    if as_module:
        argv = argv[1:]
    if not argv:
        sys.stderr.write("tracer: usage: run_driver.py [-m] target [args...]\n")
        return 2
    runner = ScriptRunner(argv[0], argv[1:], as_module=as_module)
    try:
        runner.prepare()
    except NoSource as exc:
        sys.stderr.write(f"tracer: {exc}\n")
        return exc.exit_code
    # The real CLI also re-raises SIGINT after a KeyboardInterrupt, to die the way python
    # does; the driver settles for exit status 130.
    return runner.run().exit_arg


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
