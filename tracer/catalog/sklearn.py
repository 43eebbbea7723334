"""Catalog entries for scikit-learn, resolved one module at a time.

Enumerating every estimator up front would import all of scikit-learn (over a second), so each
`sklearn.*` module is scanned when the script's own imports load it: the estimator classes it
defines contribute their fit / predict / transform / score methods, and a few functions
(train_test_split, the common metrics) are entries of their own.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

from tracer.catalog import families as f
from tracer.catalog.entries import CONSTRUCT, FIT, MODEL, TRANSFORM, Entry, class_attr
from tracer.catalog.families import Meaning

FIT_METHODS = ("fit", "partial_fit")
MODEL_METHODS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "transform",
    "fit_transform",
    "fit_predict",
    "inverse_transform",
    "score",
    "score_samples",
)
FUNCTIONS = {
    "sklearn.model_selection._split": ("train_test_split",),
    "sklearn.model_selection._validation": (
        "cross_val_score",
        "cross_validate",
        "cross_val_predict",
        "learning_curve",
    ),
    "sklearn.metrics._regression": (
        "mean_squared_error",
        "mean_absolute_error",
        "r2_score",
        "root_mean_squared_error",
        "mean_absolute_percentage_error",
        "median_absolute_error",
        "explained_variance_score",
    ),
    "sklearn.metrics._classification": (
        "accuracy_score",
        "f1_score",
        "precision_score",
        "recall_score",
        "log_loss",
        "classification_report",
        "confusion_matrix",
        "balanced_accuracy_score",
    ),
    "sklearn.metrics._ranking": ("roc_auc_score", "average_precision_score"),
    "sklearn.pipeline": ("make_pipeline", "make_union"),
    "sklearn.compose._column_transformer": ("make_column_transformer",),
}

_FIT = Meaning(f.FIT, trains=True, mutates=True)
_APPLY = Meaning(f.PREDICT)
MEANINGS = {
    "fit": _FIT,
    "partial_fit": _FIT,
    "fit_transform": _FIT,
    "fit_predict": Meaning(f.PREDICT, trains=True),
    "train_test_split": Meaning(f.SPLIT, seed="random_state"),
    "cross_val_score": _APPLY,
    "cross_validate": _APPLY,
    "cross_val_predict": _APPLY,
    "learning_curve": _APPLY,
    "make_pipeline": Meaning(f.CONSTRUCT),
    "make_union": Meaning(f.CONSTRUCT),
    "make_column_transformer": Meaning(f.CONSTRUCT),
}
_CONSTRUCT = Meaning(f.CONSTRUCT)
_METRIC = Meaning(f.COLUMN_DERIVE)  # a score of predictions against the truth


def meaning(name: str, qualname: str = "") -> Meaning:
    """What the scikit-learn op recorded as `name` means."""
    known = MEANINGS.get(name)
    if known is not None:
        return known
    if name in MODEL_METHODS:
        return _APPLY
    if name.lstrip("_")[:1].isupper():
        return _CONSTRUCT  # an estimator made: LinearRegression(...)
    return _METRIC


def provide(module: types.ModuleType) -> Iterator[tuple[Any, Entry]]:
    name = module.__name__
    for fname in FUNCTIONS.get(name, ()):
        fn = module.__dict__.get(fname)
        if fn is not None:
            yield fn, Entry(fname, f"sklearn.{fname}", TRANSFORM, meaning=meaning(fname))
    base = sys.modules.get("sklearn.base")
    estimator = getattr(base, "BaseEstimator", None)
    if estimator is None:
        return
    for cls in list(vars(module).values()):
        if not (isinstance(cls, type) and cls.__module__ == name and issubclass(cls, estimator)):
            continue
        init = cls.__dict__.get("__init__")
        if init is not None:  # LinearRegression(...): the model's origin, with its hyperparameters
            yield (
                init,
                Entry(cls.__name__, f"{name}.{cls.__qualname__}", CONSTRUCT, meaning=_CONSTRUCT),
            )
        for meth in FIT_METHODS + MODEL_METHODS:
            fn = class_attr(cls, meth)
            if fn is None:
                continue
            role = FIT if meth in FIT_METHODS else MODEL
            qualname = _qualname(fn, f"{name}.{cls.__qualname__}.{meth}")
            yield fn, Entry(meth, qualname, role, meaning=meaning(meth))


def _qualname(fn: Any, fallback: str) -> str:
    """The defining function's own name: a method shared by many estimators names its owner."""
    inner = getattr(fn, "fn", fn)  # available_if descriptors
    inner = getattr(inner, "__wrapped__", inner)
    mod, qual = getattr(inner, "__module__", None), getattr(inner, "__qualname__", None)
    return f"{mod}.{qual}" if isinstance(mod, str) and isinstance(qual, str) else fallback
