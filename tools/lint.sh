#!/usr/bin/env bash
# Lint and type-check tracer/ for both targets it supports: ruff for py311 and py312 (the py312
# run leaves out the rules that would drop 3.11: PEP 695 generics, outdated version blocks),
# mypy for Python 3.11 and 3.12.   pip install ruff mypy; bash tools/lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
ruff check tracer || status=1
ruff check --target-version py312 --ignore UP036,UP046,UP047 tracer || status=1
ruff format --check tracer/catalog tracer/recorder tracer/events tracer/lineage || status=1
mypy --python-version 3.11 tracer || status=1
mypy --python-version 3.12 tracer || status=1
exit $status
