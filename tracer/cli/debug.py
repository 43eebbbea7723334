"""`tracer debug sys`: which backend this interpreter gets and why; versions."""

from __future__ import annotations

import argparse
import platform
import sys
from typing import Any

from tracer._version import __version__


class DebugCommand:
    """Show facts about this installation (backend choice and why)."""

    @staticmethod
    def prepare_parser(p: argparse.ArgumentParser) -> None:
        p.add_argument("what", choices=("sys",), nargs="?", default="sys")

    def run(self, args: Any) -> int:
        from tracer.hooks.select import choose_backend

        choice = choose_backend()
        print(f"tracer {__version__}")
        print(f"python {platform.python_version()} ({sys.executable})")
        print(f"backend: {choice.name}")
        for reason in choice.reasons:
            print(f"  because: {reason}")
        return 0
