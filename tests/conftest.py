"""Shared fixtures. Every test must leave no profiler and no monitoring tool behind."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # tests/support.py


def _our_tools() -> list[int]:
    if not hasattr(sys, "monitoring"):
        return []
    return [i for i in range(6) if sys.monitoring.get_tool(i) == "tracer"]


@pytest.fixture(scope="session", autouse=True)
def own_stores_only(tmp_path_factory):
    """Tests never see a `.tracer/` above their temporary folders (a store found upward, as git
    finds its repository, would be the machine's, not the test's), nor this user's registry of
    stores: both are set in the environment that every subprocess inherits."""
    base = tmp_path_factory.getbasetemp()
    saved = {k: os.environ.get(k) for k in ("TRACER_CEILING_DIRECTORIES", "TRACER_REGISTRY")}
    os.environ["TRACER_CEILING_DIRECTORIES"] = str(base)
    os.environ["TRACER_REGISTRY"] = str(base / "registry-of-stores")
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(autouse=True)
def no_hook_left_behind():
    before = sys.getprofile()
    yield
    assert sys.getprofile() is before, "a test left a profile function installed"
    assert _our_tools() == [], "a test left tracer's sys.monitoring tool registered"
