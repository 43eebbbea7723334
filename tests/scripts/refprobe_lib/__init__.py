"""A library whose functions report the reference counts of their arguments (test_refcounts).

Imported by tests/scripts/refcounts.py, which adds it to the catalog: its calls from user code
are watched like pandas' own, and each answers what pandas' Copy-on-Write checks ask.
"""

import sys


def counts(a, b, c, d, *rest, e=None, **more):
    # (locals hold each argument once, getrefcount's own argument is one more)
    given = (a, b, c, d, *rest, *more.values()) + ((e,) if e is not None else ())
    return [sys.getrefcount(x) for x in given]


class Box:
    def counts(self, other):
        return [sys.getrefcount(self), sys.getrefcount(other)]
