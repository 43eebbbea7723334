"""`tracer export --to openlineage`: run events that validate against the OpenLineage 2-0-2
spec (the official JSON schemas, copied into tests/data/openlineage/), with column lineage
followed through the in-memory steps, and `--url` sending them to a local HTTP receiver with
the openlineage-python client.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support import ROOT, run_traced, traced_demo
from support import run_cli as tracer

jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")

SPEC = ROOT / "tests" / "data" / "openlineage"
DEMO_LOG = ".tracer/runs/demo.tlog"

SHOP = """\
import pandas as pd

pd.DataFrame({"order_id": [1, 2, 3, 4, 5, 6], "customer": ["a", "b", "a", "c", "b", None],
              "amount": [10.0, 25.5, None, 7.25, 99.0, 3.0]}).to_csv("orders.csv", index=False)
pd.DataFrame({"customer": ["a", "b", "c"], "region": ["north", "south", "north"]}).to_csv(
    "customers.csv", index=False)

o = pd.read_csv("orders.csv").dropna(subset=["customer"])
c = pd.read_csv("customers.csv")
m = o.merge(c, on="customer", how="left")
by_region = m.groupby("region")["amount"].sum().reset_index().sort_values("amount")
by_region.to_csv("by_region.csv", index=False)
"""

FAILS = """\
import pandas as pd
df = pd.read_csv("orders.csv")
df.head(2).to_csv("partial.csv", index=False)
raise ValueError("bad input: 42")
"""


class Validator:
    """Validates an event against OpenLineage.json and each facet against its own schema."""

    def __init__(self) -> None:
        schemas = [
            json.loads(p.read_text())
            for p in [SPEC / "OpenLineage.json", *sorted((SPEC / "facets").glob("*.json"))]
        ]
        self.registry = referencing.Registry().with_resources(
            (s["$id"], referencing.Resource.from_contents(s)) for s in schemas
        )
        self.core = schemas[0]["$id"]
        self.facets = {f"{s['$id']}#/$defs/{name}" for s in schemas[1:] for name in s["$defs"]}

    def errors(self, ref: str, instance: Any) -> list[str]:
        v = jsonschema.Draft202012Validator({"$ref": ref}, registry=self.registry)
        return [f"{list(e.path)}: {e.message}" for e in v.iter_errors(instance)]

    def check(self, event: dict[str, Any]) -> None:
        errs = self.errors(self.core, event) + self.errors(f"{self.core}#/$defs/RunEvent", event)
        for holder in [event["run"], event["job"], *event["inputs"], *event["outputs"]]:
            for key in ("facets", "inputFacets", "outputFacets"):
                for name, facet in (holder.get(key) or {}).items():
                    url = facet["_schemaURL"]
                    assert url in self.facets, f"facet {name}: no schema {url} in tests/data"
                    errs += [f"{name}: {e}" for e in self.errors(url, facet)]
        assert not errs, "\n".join(errs)


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return traced_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("ol-shop")
    (cwd / "shop.py").write_text(SHOP)
    (cwd / "fails.py").write_text(FAILS)
    assert run_traced(["shop.py"], cwd, log="shop.tlog").returncode == 0
    assert run_traced(["fails.py"], cwd, log="fails.tlog").returncode == 1
    return cwd


def export(cwd: Path, log: str) -> list[dict[str, Any]]:
    p = tracer("export", log, "--to", "openlineage", cwd=cwd)
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def dataset(event: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in event[kind] if d["name"].endswith(name))


def fields(lineage: dict[str, Any], column: str) -> set[tuple[str, str, str]]:
    return {
        (Path(f["name"]).name, f["field"], t["subtype"])
        for f in lineage["fields"][column]["inputFields"]
        for t in f["transformations"]
    }


def indirect(lineage: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (Path(f["name"]).name, f["field"], t["subtype"])
        for f in lineage.get("dataset", [])
        for t in f["transformations"]
        if t["type"] == "INDIRECT"
    }


def test_demo_events_validate(demo: Path, validator: Validator):
    # GIVEN the traced demo WHEN exported as OpenLineage THEN START then COMPLETE, both valid
    events = export(demo, DEMO_LOG)
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    for e in events:
        validator.check(e)
    start, complete = events
    assert start["run"]["runId"] == complete["run"]["runId"]
    assert (
        start["job"]
        == complete["job"]
        == {**start["job"], "namespace": "tracer", "name": "housing_pipeline"}
    )
    assert [d["name"] for d in start["inputs"]] == [str(demo / "examples/data/housing.csv")]
    assert {Path(d["name"]).name for d in complete["outputs"]} == {
        "01_cleaned.csv",
        "02_features.csv",
        "03_predictions.csv",
        "model.joblib",
    }
    assert all(d["namespace"] == "file" for d in complete["inputs"] + complete["outputs"])


def test_demo_dataset_facets(demo: Path):
    _, complete = export(demo, DEMO_LOG)
    raw = dataset(complete, "inputs", "housing.csv")
    assert raw["facets"]["version"]["datasetVersion"].startswith("xxh3_128:")
    names = [f["name"] for f in raw["facets"]["schema"]["fields"]]
    assert names[:3] == ["longitude", "latitude", "housing_median_age"] and len(names) == 10
    dq = raw["inputFacets"]["dataQualityMetrics"]
    assert (
        dq["rowCount"] == 20640
        and dq["bytes"] == (demo / "examples/data/housing.csv").stat().st_size
    )
    cleaned = dataset(complete, "outputs", "01_cleaned.csv")
    stats = cleaned["outputFacets"]["outputStatistics"]
    assert (
        stats["rowCount"] == 18378
        and stats["size"] == (demo / "housing_out/01_cleaned.csv").stat().st_size
    )


def test_demo_column_lineage_is_transitive(demo: Path):
    _, complete = export(demo, DEMO_LOG)
    features = dataset(complete, "outputs", "02_features.csv")["facets"]["columnLineage"]
    # a copied column, through dropna, query, a mask filter and four assigns
    assert fields(features, "longitude") == {("housing.csv", "longitude", "IDENTITY")}
    # a computed one
    assert fields(features, "rooms_per_household") == {
        ("housing.csv", "total_rooms", "TRANSFORMATION"),
        ("housing.csv", "households", "TRANSFORMATION"),
    }
    # the rows were chosen by the query's columns and the mask's
    chosen = indirect(features)
    for col in ("median_house_value", "housing_median_age", "population"):
        assert ("housing.csv", col, "FILTER") in chosen
    # the model: each feature from its column, every one also from the target
    model = dataset(complete, "outputs", "model.joblib")["facets"]["columnLineage"]
    assert ("housing.csv", "median_income", "AGGREGATION") in fields(model, "median_income")
    assert ("housing.csv", "median_house_value", "AGGREGATION") in fields(model, "median_income")
    # predictions: actual is the target as is, predicted comes through the model
    preds = dataset(complete, "outputs", "03_predictions.csv")["facets"]["columnLineage"]
    assert fields(preds, "actual") == {("housing.csv", "median_house_value", "IDENTITY")}
    assert ("housing.csv", "median_income", "AGGREGATION") in fields(preds, "predicted")


def test_join_group_sort_filter(shop: Path, validator: Validator):
    events = export(shop, "shop.tlog")
    for e in events:
        validator.check(e)
    out = dataset(events[1], "outputs", "by_region.csv")["facets"]["columnLineage"]
    assert fields(out, "amount") == {("orders.csv", "amount", "AGGREGATION")}
    assert ("customers.csv", "region", "IDENTITY") in fields(out, "region")
    assert indirect(out) >= {
        ("orders.csv", "customer", "JOIN"),
        ("customers.csv", "customer", "JOIN"),
        ("customers.csv", "region", "GROUP_BY"),
        ("orders.csv", "amount", "SORT"),
        ("orders.csv", "customer", "FILTER"),
    }


def test_a_script_that_raises_gives_fail(shop: Path, validator: Validator):
    events = export(shop, "fails.tlog")
    assert [e["eventType"] for e in events] == ["START", "FAIL"]
    for e in events:
        validator.check(e)
    error = events[1]["run"]["facets"]["errorMessage"]
    assert error["message"] == "ValueError: bad input: 42"
    assert error["programmingLanguage"] == "PYTHON"
    assert [Path(d["name"]).name for d in events[1]["outputs"]] == ["partial.csv"]


def test_a_killed_run_gives_fail(demo: Path, tmp_path: Path, validator: Validator):
    data = (demo / DEMO_LOG).read_bytes()
    (tmp_path / "torn.tlog").write_bytes(data[: len(data) // 2])
    p = tracer("export", "torn.tlog", "--to", "openlineage", cwd=tmp_path)
    assert p.returncode == 0 and p.stderr.startswith("tracer: warning:")
    events = [json.loads(line) for line in p.stdout.splitlines()]
    assert [e["eventType"] for e in events] == ["START", "FAIL"]
    validator.check(events[1])
    assert "did not finish" in events[1]["run"]["facets"]["errorMessage"]["message"]


def test_export_is_deterministic(demo: Path):
    assert export(demo, DEMO_LOG) == export(demo, DEMO_LOG)


# -- sending -----------------------------------------------------------------------------------


class Receiver:
    """A local OpenLineage endpoint: records what is POSTed to /api/v1/lineage."""

    def __init__(self) -> None:
        received: list[tuple[str, dict[str, Any]]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append((self.path, json.loads(body)))
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    pytest.importorskip("openlineage.client")
    with Receiver() as r:
        yield r


def test_url_sends_start_and_complete(demo: Path, receiver: Receiver, validator: Validator):
    p = tracer("export", DEMO_LOG, "--to", "openlineage", "--url", receiver.url, cwd=demo)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    assert p.stderr.strip() == (
        f"tracer: sent 2 OpenLineage events (START, COMPLETE) to {receiver.url}"
    )
    assert [path for path, _ in receiver.received] == ["/api/v1/lineage"] * 2
    assert [e["eventType"] for _, e in receiver.received] == ["START", "COMPLETE"]
    for _, e in receiver.received:
        validator.check(e)
    assert receiver.received[1][1] == export(demo, DEMO_LOG)[1]


def test_url_sends_fail_for_a_script_that_raised(shop: Path, receiver: Receiver):
    p = tracer("export", "fails.tlog", "--url", receiver.url, cwd=shop)
    assert p.returncode == 0, p.stderr
    assert [e["eventType"] for _, e in receiver.received] == ["START", "FAIL"]
    assert receiver.received[1][1]["run"]["facets"]["errorMessage"]["message"] == (
        "ValueError: bad input: 42"
    )


def test_url_unreachable_is_one_line(demo: Path):
    pytest.importorskip("openlineage.client")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = tracer(
        "export", DEMO_LOG, "--to", "openlineage", "--url", f"http://127.0.0.1:{port}", cwd=demo
    )
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracer: error: could not send OpenLineage")


def test_url_only_with_openlineage(demo: Path):
    p = tracer("export", DEMO_LOG, "--to", "dot", "--url", "http://127.0.0.1:9", cwd=demo)
    assert p.returncode == 2 and "--url sends OpenLineage events" in p.stderr
