"""Families of op names that several layers reason about (recorder, model, views).

One definition each: the recorder decides which ops get dropped-row facts with it, the
lineage model which ops count rows as dropped, the views how to draw them.
"""

from __future__ import annotations

# Ops that keep a subset of their subject's rows and leave the values alone.
ROW_FILTERS = frozenset(
    {
        "dropna", "filter", "query", "drop_duplicates", "head", "tail", "sample", "nlargest",
        "nsmallest", "loc", "iloc", "drop", "slice", "truncate", "between_time", "at_time", "xs",
    }
)  # fmt: skip
