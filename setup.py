"""Build the optional C filters; the project's metadata lives in pyproject.toml.

`tracer.hooks._ctracer` is the sys.setprofile backend's profile function, built for Python
< 3.12; `tracer.hooks._monfilter` gives the sys.monitoring backend (3.12+) its quick "nothing to
do". Neither is built when `TRACER_DISABLE_EXTENSION` is set to anything but "" or "0". A failed
build never fails the install: tracer then uses its pure-Python callbacks, and `tracer debug`
says why.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """build_ext that warns instead of failing, whatever goes wrong (no compiler, no headers,
    a compiler that cannot even be set up). `optional=True` alone covers compile errors only."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any failure leaves the pure-Python backend
            self._skip("the C extension was not built", exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self._skip(f"{ext.name} was not built", exc)

    def _skip(self, what: str, exc: BaseException) -> None:
        sys.stderr.write(
            f"warning: tracer: {what} ({type(exc).__name__}: {exc}); "
            "the slower pure-Python profile function will be used on this Python\n"
        )


def _wanted() -> bool:
    return os.environ.get("TRACER_DISABLE_EXTENSION", "") in ("", "0")


ext_modules = []
if _wanted() and sys.version_info < (3, 12):
    ext_modules.append(
        Extension("tracer.hooks._ctracer", ["tracer/hooks/_ctracer.c"], optional=True)
    )
elif _wanted():
    ext_modules.append(
        Extension("tracer.hooks._monfilter", ["tracer/hooks/_monfilter.c"], optional=True)
    )

setup(
    ext_modules=ext_modules,
    cmdclass={"build_ext": OptionalBuildExt},
    package_data={"tracer.hooks": ["_ctracer.c", "_ctracer.pyi", "_monfilter.c"]},
)
