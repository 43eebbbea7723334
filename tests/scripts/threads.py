"""4 threads x 100 ops each, plus one op on the main thread."""
import threading

import pandas as pd

base = pd.DataFrame({"a": [1.0, None, 3.0] * 10})


def work(n):
    for _ in range(n):
        base.dropna()


threads = [threading.Thread(target=work, args=(100,), name=f"worker-{i}") for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(base.fillna(0)))
