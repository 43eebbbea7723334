"""Step 3 of 3: features CSV + model -> predictions CSV.   evaluate.py FEATURES MODEL OUT"""

import sys

import joblib
import pandas as pd

FEATURES = ["rooms", "people", "rooms_per_person"]


def main(features_path: str, model_path: str, out_path: str) -> None:
    df = pd.read_csv(features_path)
    test = df[df["id"] % 4 == 0]
    model = joblib.load(model_path)
    predicted = model.predict(test[FEATURES])
    result = pd.DataFrame({"actual": test["target"], "predicted": predicted})
    result = result.assign(error=lambda r: r["actual"] - r["predicted"])
    result.to_csv(out_path)
    print(f"evaluated {len(result)} rows")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
