"""`tracer clear [--keep N | --older-than DAYS]`: delete old logs (all of them by default)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from tracer.cli.refs import HOME_HELP
from tracer.exceptions import CommandError


class ClearCommand:
    """Delete logs from the store and the index (asks nothing; prints what it removed)."""

    @staticmethod
    def prepare_parser(p: argparse.ArgumentParser) -> None:
        group = p.add_mutually_exclusive_group()
        group.add_argument("--keep", type=int, metavar="N", help="keep the N newest runs")
        group.add_argument("--older-than", type=float, metavar="DAYS",
                           help="delete runs started more than DAYS days ago")
        p.add_argument("--home", help=HOME_HELP)

    def run(self, args: Any) -> int:
        from tracer.renderers.store_views import shown_path
        from tracer.store import open_store

        if args.keep is not None and args.keep < 0:
            raise CommandError("--keep needs a number >= 0")
        if args.older_than is not None and args.older_than < 0:
            raise CommandError("--older-than needs a number of days >= 0")
        with open_store(args.home) as store:
            runs = store.runs()  # newest first
            if args.keep is not None:
                doomed = runs[args.keep:]
            elif args.older_than is not None:
                cutoff = datetime.now(UTC) - timedelta(days=args.older_than)
                doomed = [r for r in runs if _started(r.started) < cutoff]
            else:
                doomed = runs
            removed = kept_running = 0
            inside = os.path.join(store.runs_dir, "")
            for r in doomed:
                if r.running:
                    kept_running += 1
                    print(f"kept {shown_path(r.log)}: the run is still going")
                    continue
                if r.log.startswith(inside):
                    try:
                        os.unlink(r.log)
                        if os.path.exists(r.log + ".cells.json"):  # a notebook's cell map
                            os.unlink(r.log + ".cells.json")
                        from tracer.children import children_dir

                        shutil.rmtree(children_dir(r.log), ignore_errors=True)
                    except FileNotFoundError:
                        pass
                    except OSError as exc:
                        sys.stderr.write(
                            f"tracer: warning: cannot delete {r.log}: {exc.strerror}\n")
                        continue
                    print(f"removed {shown_path(r.log)}  ({r.name}, {r.run_id})")
                else:
                    print(f"forgot {shown_path(r.log)}  ({r.name}, {r.run_id}; "
                          "outside the store: the file is kept)")
                store.forget(r)
                removed += 1
            left = len(store.runs())
        print(f"{removed} run{'s' if removed != 1 else ''} removed, {left} left")
        return 0


def _started(iso: str | None) -> datetime:
    if not iso:
        return datetime.min.replace(tzinfo=UTC)
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
