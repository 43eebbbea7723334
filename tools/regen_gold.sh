#!/usr/bin/env bash
# Rewrite the gold files after a deliberate change to what tracer records, then review the diff.
set -eu
cd "$(dirname "$0")/.."
TRACER_REGEN_GOLD=1 python -m pytest tests -q -k "gold or same_ops" "$@"
git diff --stat -- tests/gold
