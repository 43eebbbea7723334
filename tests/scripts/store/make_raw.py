"""Write the raw CSV of the store tests: make_raw.py OUT [--change-cell]. Deterministic."""

import sys


def rows(change_cell: bool) -> list[str]:
    out = ["id,rooms,people,price"]
    for i in range(200):
        rooms = "" if i % 37 == 5 else str(1 + (i * 7) % 9)
        people = 1 + (i * 3) % 5
        price = 100 + 13 * i % 97 + (int(rooms or 0) * 11)
        if change_cell and i == 43:
            price += 1  # one cell differs
        out.append(f"{i},{rooms},{people},{price}")
    return out


if __name__ == "__main__":
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        f.write("\n".join(rows("--change-cell" in sys.argv)) + "\n")
