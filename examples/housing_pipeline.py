"""California housing: a small, real ML pipeline to trace.

    python -m tracer run examples/housing_pipeline.py [--out DIR] [--scale N]

Reads the raw census CSV, cleans it, engineers features, trains a linear model and writes
the intermediate tables, the predictions and the model. Plain pandas / scikit-learn: nothing
here knows about tracer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

DATA = Path(__file__).resolve().parent / "data" / "housing.csv"
FEATURES = [
    "median_income",
    "housing_median_age",
    "rooms_per_household",
    "bedrooms_per_room",
    "population_per_household",
    "log_population",
]


def load(scale: int) -> pd.DataFrame:
    raw = pd.read_csv(DATA)
    if scale > 1:  # a bigger variant of the same data, for benchmarks
        raw = pd.concat([raw] * scale, ignore_index=True)
    return raw


def clean(raw: pd.DataFrame) -> pd.DataFrame:
    df = raw.dropna()
    df = df.query("median_house_value < 500001 and housing_median_age < 52")
    df = df[df["population"] > 3]
    return df


def engineer(df: pd.DataFrame) -> pd.DataFrame:
    df = df.assign(rooms_per_household=lambda d: d["total_rooms"] / d["households"])
    df = df.assign(bedrooms_per_room=lambda d: d["total_bedrooms"] / d["total_rooms"])
    df = df.assign(population_per_household=lambda d: d["population"] / d["households"])
    df = df.assign(log_population=lambda d: np.log1p(d["population"]))
    return df


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="housing_out", help="output directory")
    parser.add_argument("--scale", type=int, default=1, help="repeat the data N times")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    raw = load(args.scale)
    df = clean(raw)
    df.to_csv(out / "01_cleaned.csv", index=False)
    df = engineer(df)
    df.to_csv(out / "02_features.csv", index=False)

    X = df[FEATURES]
    y = df["median_house_value"]
    is_test = (df["longitude"] * 100).round().astype(int) % 5 == 0
    X_train, y_train = X[~is_test], y[~is_test]
    X_test, y_test = X[is_test], y[is_test]

    model = LinearRegression()
    model.fit(X_train, y_train)
    predicted = model.predict(X_test)

    predictions = pd.DataFrame({"actual": y_test, "predicted": predicted}, index=y_test.index)
    predictions = predictions.assign(
        residual=lambda p: p["actual"] - p["predicted"],
        abs_error=lambda p: (p["actual"] - p["predicted"]).abs(),
    )
    predictions.to_csv(out / "03_predictions.csv")
    joblib.dump(model, out / "model.joblib")

    rmse = float(np.sqrt((predictions["residual"] ** 2).mean()))
    print(f"rows: raw={len(raw)} clean={len(df)} train={len(X_train)} test={len(X_test)}")
    print(f"test RMSE: {rmse:,.0f}")


if __name__ == "__main__":
    main()
