"""The user-code rule: per file, and for code compiled from strings, per module of its globals."""

from __future__ import annotations

import collections
import json
import os
import sys

from tracer import env
from tracer.hooks.usercode import UserCode

FRAME = "__import__('sys')._getframe()"  # evaluated as a string: a frame of <string> code


def test_library_files_and_user_files():
    rule = UserCode()
    library = os.path.join(env.LIBRARY_PREFIXES[-1], "somepkg", "mod.py")
    assert rule.classify(library) is False
    assert rule.classify(__file__) is True
    assert rule.classify("<frozen importlib._bootstrap>") is False
    assert rule.classify("<stdin>") is True
    # a path into the library prefix that climbs back out of it is resolved, not trusted
    escape = os.path.join(env.LIBRARY_PREFIXES[-1], *[".."] * 12, "home", "me", "x.py")
    assert os.path.abspath(escape) == os.path.join(os.sep, "home", "me", "x.py")
    assert rule.classify(escape) is True
    # include makes a library file the user's
    assert rule.classify(json.__file__) is False
    assert UserCode(include=[os.path.dirname(json.__file__)]).classify(json.__file__) is True


def test_string_code_belongs_to_the_module_whose_globals_it_runs_in():
    rule = UserCode()
    assert rule.of_frame(eval(FRAME, vars(json))) is False  # a library's exec'd helper
    assert rule.of_frame(eval(FRAME, globals())) is True  # this (user) module's
    assert rule.of_frame(eval(FRAME, {})) is True  # exec(source, {}): the user's
    # namedtuple's generated methods run in a private namespace named after the type
    assert rule.of_frame(eval(FRAME, {"__name__": "namedtuple_Point"})) is False
    assert collections.namedtuple("Point", "x y")(1, 2).x == 1
    # "<string>" is never cached per file: each frame is decided on its own
    assert "<string>" not in rule.files
    assert rule(eval(FRAME, vars(json)).f_code) is True  # no frame: the old answer, user


def test_a_main_module_without_a_file_is_the_users():
    rule = UserCode()
    main = sys.modules["__main__"]
    saved = main.__dict__.pop("__file__", None)
    try:
        assert rule.of_frame(eval(FRAME, vars(main))) is True
    finally:
        if saved is not None:
            main.__file__ = saved
