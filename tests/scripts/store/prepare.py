"""Step 1 of 3: raw CSV -> cleaned features CSV.   prepare.py RAW OUT"""

import sys

import pandas as pd


def main(raw_path: str, out_path: str) -> None:
    raw = pd.read_csv(raw_path)
    df = raw.dropna()
    df = df[df["rooms"] > 0]
    df = df.assign(rooms_per_person=lambda d: d["rooms"] / d["people"])
    df = df.rename(columns={"price": "target"})
    df.to_csv(out_path, index=False)
    print(f"prepared {len(df)} of {len(raw)} rows")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
