"""Step 2 of 3: features CSV -> model.   train.py FEATURES MODEL"""

import sys

import joblib
import pandas as pd
from sklearn.linear_model import LinearRegression

FEATURES = ["rooms", "people", "rooms_per_person"]


def main(features_path: str, model_path: str) -> None:
    df = pd.read_csv(features_path)
    train = df[df["id"] % 4 != 0]
    model = LinearRegression()
    model.fit(train[FEATURES], train["target"])
    joblib.dump(model, model_path)
    print(f"trained on {len(train)} rows")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
