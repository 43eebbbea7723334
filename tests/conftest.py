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


@pytest.fixture(autouse=True)
def no_hook_left_behind():
    before = sys.getprofile()
    yield
    assert sys.getprofile() is before, "a test left a profile function installed"
    assert _our_tools() == [], "a test left tracer's sys.monitoring tool registered"
