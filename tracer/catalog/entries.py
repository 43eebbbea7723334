"""What a catalog entry says about one watched callable.

An entry is declarative: the op name it records, its role, what the op means (its family and
the parameters that name columns: families.py), which parameters carry data or paths, and (for
a few entries) a `namer` that picks the op name from the bound arguments, for example `df[mask]`
is a "filter" while `df[["a", "b"]]` is "select_columns"; each name a namer picks has its own
meaning (`variants`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tracer.catalog.families import NO_MEANING, Meaning

# Roles. They decide what the recorder does with inputs and outputs.
READ = "read"  # reads a file: output is a new node linked to the file
WRITE = "write"  # writes a file: the data input is linked to the file
TRANSFORM = "transform"  # inputs -> new output objects
MUTATE = "mutate"  # changes `target` in place: its output is a new version of the same object
CONSTRUCT = "construct"  # __init__: the output is `self`
FIT = "fit"  # estimator.fit: the output is a new version of the estimator (a model node)
MODEL = "model"  # predict/transform/score with an estimator: inputs include the model

Namer = Callable[[Mapping[str, object]], "str | None"]


def class_attr(cls: type, name: str) -> object:
    """`name` as `cls` defines or inherits it, without running a descriptor (a property stays
    a property): `inspect.getattr_static` for classes, at a fraction of its cost."""
    for klass in cls.__mro__:
        found = klass.__dict__.get(name, _MISSING)
        if found is not _MISSING:
            return found
    return None


_MISSING = object()


@dataclass(frozen=True, slots=True)
class Entry:
    """One watched callable. `name` is the short op name shown to users (seed vocabulary)."""

    name: str
    qualname: str
    role: str = TRANSFORM
    # Parameters that can name a file (a path, a PathLike or an open file object).
    path_params: tuple[str, ...] = ()
    # For MUTATE: how to find the mutated object from the bound arguments:
    # "self", or "self.obj" for pandas indexers (df.loc[...] = ...).
    target: str = "self"
    # Picks the op name from the bound arguments; returning None means "do not record".
    namer: Namer | None = None
    # Mutates its target only when this bound argument is True (pandas' inplace=True).
    inplace_param: str | None = None
    # A C callable: its arguments come from the caller's bytecode, not from a frame.
    c_callable: bool = False
    file_format: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)
    meaning: Meaning = NO_MEANING
    # The meaning of each other name the namer picks (a name not given here means `meaning`).
    variants: Mapping[str, Meaning] = field(default_factory=dict)

    def op_name(self, args: Mapping[str, object]) -> str | None:
        if self.namer is None:
            return self.name
        return self.namer(args)

    def meaning_of(self, name: str) -> Meaning:
        """What the op means when it is recorded as `name`."""
        return self.variants.get(name, self.meaning) if self.variants else self.meaning

    def mutates(self, args: Mapping[str, object]) -> bool:
        if self.role == MUTATE or self.role == FIT:
            return True
        if self.inplace_param is not None:
            return args.get(self.inplace_param) is True
        return False
