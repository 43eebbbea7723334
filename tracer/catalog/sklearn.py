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

from tracer.catalog.entries import CONSTRUCT, FIT, MODEL, TRANSFORM, Entry, class_attr

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
        "cross_val_score", "cross_validate", "cross_val_predict", "learning_curve",
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


def provide(module: types.ModuleType) -> Iterator[tuple[Any, Entry]]:
    name = module.__name__
    for fname in FUNCTIONS.get(name, ()):
        fn = module.__dict__.get(fname)
        if fn is not None:
            yield fn, Entry(fname, f"sklearn.{fname}", TRANSFORM)
    base = sys.modules.get("sklearn.base")
    estimator = getattr(base, "BaseEstimator", None)
    if estimator is None:
        return
    for cls in list(vars(module).values()):
        if not (isinstance(cls, type) and cls.__module__ == name and issubclass(cls, estimator)):
            continue
        init = cls.__dict__.get("__init__")
        if init is not None:  # LinearRegression(...): the model's origin, with its hyperparameters
            yield init, Entry(cls.__name__, f"{name}.{cls.__qualname__}", CONSTRUCT)
        for meth in FIT_METHODS + MODEL_METHODS:
            fn = class_attr(cls, meth)
            if fn is None:
                continue
            role = FIT if meth in FIT_METHODS else MODEL
            yield fn, Entry(meth, _qualname(fn, f"{name}.{cls.__qualname__}.{meth}"), role)


def _qualname(fn: Any, fallback: str) -> str:
    """The defining function's own name: a method shared by many estimators names its owner."""
    inner = getattr(fn, "fn", fn)  # available_if descriptors
    inner = getattr(inner, "__wrapped__", inner)
    mod, qual = getattr(inner, "__module__", None), getattr(inner, "__qualname__", None)
    return f"{mod}.{qual}" if isinstance(mod, str) and isinstance(qual, str) else fallback
