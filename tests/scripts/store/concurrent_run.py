"""One of several concurrent workers: trace prepare.py into the store, index the log the way
`tracer run` does at its end, then sync and query the index a few times while the others do
the same.   concurrent_run.py K RAW"""

import os
import subprocess
import sys

from tracer.store import index_run, open_store

HERE = os.path.dirname(os.path.abspath(__file__))


def main(k: str, raw: str) -> int:
    log = os.path.join(os.environ["TRACER_HOME"], "runs", f"worker-{k}.tlog")
    p = subprocess.run([sys.executable, "-m", "tracer", "run", "-q", "-o", log,
                        os.path.join(HERE, "prepare.py"), raw, f"out-{k}.csv"])
    if p.returncode != 0:
        return p.returncode
    index_run(log)
    for _ in range(5):
        with open_store() as store:
            store.sync()
            if not any(r.log == log for r in store.runs()):
                print(f"worker {k}: its run is missing from the index", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
