"""Where the store is, found the way git finds its repository, and the stores this user has used.

The store is the `.tracer/` directory that holds a project's logs (`runs/*.tlog`) and their
index. Every command, `tracer run` included, uses the same one:

1. `--home DIR` (`home=`), else `$TRACER_HOME`: set explicitly, they win;
2. else the nearest `.tracer/` in the working directory or one of its parents, so a command run
   from a subfolder of a project finds the project's runs;
3. else `.tracer/` in the working directory (created by the first run).

The search upward stops before any directory listed in `$TRACER_CEILING_DIRECTORIES`
(`os.pathsep`-separated, like git's GIT_CEILING_DIRECTORIES) and at the filesystem root.

The registry is a small per-user text file of the stores runs were written to, one absolute
path a line: `$TRACER_REGISTRY`, else `$XDG_STATE_HOME/tracer/stores`, else
`~/.local/state/tracer/stores`. `tracer why FILE` asks them when the nearest store does not know
the file. Writing it never fails a run: a registry that cannot be written is skipped.
"""

from __future__ import annotations

import os

HOME_ENV = "TRACER_HOME"
CEILING_ENV = "TRACER_CEILING_DIRECTORIES"
REGISTRY_ENV = "TRACER_REGISTRY"
STORE_DIR = ".tracer"


def tracer_home(home: str | None = None) -> str:
    """The store directory for this process (see the module docstring); it may not exist yet."""
    explicit = home or os.environ.get(HOME_ENV)
    if explicit:
        return os.path.abspath(explicit)
    cwd = os.getcwd()
    return find_store(cwd) or os.path.join(cwd, STORE_DIR)


def find_store(start: str) -> str | None:
    """The nearest existing `.tracer/` in `start` or its parents, below the ceilings."""
    ceilings = {os.path.abspath(p) for p in os.environ.get(CEILING_ENV, "").split(os.pathsep) if p}
    directory = os.path.abspath(start)
    while directory not in ceilings:
        candidate = os.path.join(directory, STORE_DIR)
        if os.path.isdir(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent
    return None


def registry_path() -> str:
    explicit = os.environ.get(REGISTRY_ENV)
    if explicit:
        return os.path.abspath(explicit)
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(state, "tracer", "stores")


def known_stores() -> list[str]:
    """The stores this user has written runs to that still exist, in the order first used."""
    try:
        with open(registry_path(), encoding="utf-8") as f:
            lines = [line.strip() for line in f]
    except (OSError, UnicodeDecodeError):
        return []
    seen: list[str] = []
    for line in lines:
        if line and line not in seen and os.path.isdir(line):
            seen.append(line)
    return seen


def remember(home: str) -> None:
    """Add a store to the registry (once). Never raises."""
    home = os.path.abspath(home)
    try:
        path = registry_path()
        try:
            with open(path, encoding="utf-8") as f:
                if any(line.strip() == home for line in f):
                    return
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (home + "\n").encode("utf-8"))  # one short append: atomic enough
        finally:
            os.close(fd)
    except (OSError, UnicodeError):
        pass
