"""`tracer export --to openlineage`: the run as OpenLineage 2-0-2 run events.

Two events per run: START (at the run's start, with its inputs) and then COMPLETE, FAIL (the
script raised, or the log ends early: an `errorMessage` run facet says why) or ABORT (the
script was interrupted), with every input and output. Datasets are the files the run read and
wrote, namespace "file", name their absolute path. Facets:

- `schema` (columns and dtypes) and `version` (the content hash, "xxh3_128:…") on every file;
- `dataQualityMetrics` on inputs (rows, bytes) and `outputStatistics` on outputs;
- `columnLineage` on outputs: each column's input fields (DIRECT: IDENTITY, TRANSFORMATION or
  AGGREGATION) and the fields that chose the rows (INDIRECT: FILTER, JOIN, GROUP_BY, SORT),
  followed through every in-memory step back to the files read (`ColumnLineage`).

The run id is a UUIDv7 made from the run's start time and tracer's run id, so exporting the
same log twice gives the same events. `post(events, url)` sends them with the
openlineage-python client's HTTP transport (the optional extra `tracer-lineage[openlineage]`).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from tracer._version import __version__
from tracer.exceptions import CommandError
from tracer.lineage.graph import FileRecord, Lineage, Node
from tracer.lineage.processors import ColumnLineage, Flow, Origin

SPEC = "https://openlineage.io/spec"
RUN_EVENT_SCHEMA = f"{SPEC}/2-0-2/OpenLineage.json#/$defs/RunEvent"
PRODUCER = f"urn:tracer:{__version__}"
DEFAULT_NAMESPACE = "tracer"
FACETS = {
    "schema": "1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
    "version": "1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet",
    "columnLineage": "1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet",
    "dataQualityMetrics": (
        "1-0-3/DataQualityMetricsInputDatasetFacet.json#/$defs/DataQualityMetricsInputDatasetFacet"
    ),
    "outputStatistics": (
        "1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet"
    ),
    "errorMessage": "1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
    "jobType": "2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
}
_END_STATE = {"ok": "COMPLETE", "error": "FAIL", "interrupted": "ABORT", "unfinished": "FAIL"}
_DIRECT = ("IDENTITY", "TRANSFORMATION", "AGGREGATION")


def facet(name: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": f"{SPEC}/facets/{FACETS[name]}", **fields}


def run_id(lineage: Lineage) -> str:
    """A UUIDv7: the run's start in milliseconds, then bits of tracer's own run id."""
    started = _parse_time(lineage.run.started) or datetime(1970, 1, 1, tzinfo=UTC)
    ms = int(started.timestamp() * 1000) & ((1 << 48) - 1)
    seed = (lineage.run.id or lineage.path).encode()
    rest = bytearray(hashlib.sha256(seed).digest()[:10])
    rest[0] = (rest[0] & 0x0F) | 0x70  # version 7
    rest[2] = (rest[2] & 0x3F) | 0x80  # RFC 4122 variant
    return str(uuid.UUID(bytes=ms.to_bytes(6, "big") + bytes(rest)))


def job_name(lineage: Lineage) -> str:
    script = lineage.run.script or (lineage.run.argv[0] if lineage.run.argv else "script")
    base = os.path.basename(script.rstrip("/")) or script
    return base[:-3] if base.endswith(".py") else base


def events(lineage: Lineage, namespace: str = DEFAULT_NAMESPACE) -> list[dict[str, Any]]:
    """[START, COMPLETE | FAIL | ABORT] for one run."""
    flow = Flow.of(lineage)
    columns = ColumnLineage(lineage, flow)
    run = lineage.run
    rid = run_id(lineage)
    job = {
        "namespace": namespace,
        "name": job_name(lineage),
        "facets": {
            "jobType": facet(
                "jobType", processingType="BATCH", integration="TRACER", jobType="SCRIPT"
            ),
        },
    }
    inputs = [_input(lineage, f) for f in _files(lineage, read=True)]
    outputs = [_output(lineage, columns, f) for f in _files(lineage, read=False)]
    start = {
        "eventType": "START",
        "eventTime": _iso(_parse_time(run.started)),
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_SCHEMA,
        "run": {"runId": rid},
        "job": job,
        "inputs": [{k: v for k, v in d.items() if k != "inputFacets"} for d in inputs],
        "outputs": [],
    }
    state = _END_STATE.get(run.status, "FAIL")
    run_facets: dict[str, Any] = {}
    if state in ("FAIL", "ABORT"):
        message = run.error or (
            "interrupted"
            if run.status == "interrupted"
            else "the run did not finish: its log ends early (was the process killed?)"
            if run.status == "unfinished"
            else f"exit status {run.exit_code}"
        )
        run_facets["errorMessage"] = facet(
            "errorMessage", message=message, programmingLanguage="PYTHON"
        )
    end = {
        "eventType": state,
        "eventTime": _iso(_end_time(lineage)),
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_SCHEMA,
        "run": {"runId": rid, **({"facets": run_facets} if run_facets else {})},
        "job": job,
        "inputs": inputs,
        "outputs": outputs,
    }
    return [start, end]


def write_events(lineage: Lineage, out: IO[str], namespace: str = DEFAULT_NAMESPACE) -> None:
    """One event per line (JSON Lines), as the OpenLineage file transport writes them."""
    for event in events(lineage, namespace):
        out.write(json.dumps(event, sort_keys=True, ensure_ascii=False))
        out.write("\n")


def post(evts: list[dict[str, Any]], url: str, timeout: float = 10.0) -> None:
    """Send events to an OpenLineage HTTP endpoint (Marquez, DataHub...) with the client's
    transport. `url` is the server; the client adds its endpoint (api/v1/lineage). The API key,
    if any, comes from OPENLINEAGE_API_KEY."""
    try:
        from openlineage.client.transport.http import (
            ApiKeyTokenProvider,
            HttpConfig,
            HttpTransport,
            TokenProvider,
        )
    except ImportError:
        raise CommandError(
            "--url needs the OpenLineage client: pip install 'tracer-lineage[openlineage]'"
        ) from None
    key = os.environ.get("OPENLINEAGE_API_KEY")  # read here: the client's own convention
    auth = ApiKeyTokenProvider({"api_key": key}) if key else TokenProvider({})
    retry = {
        "total": 2,
        "connect": 2,
        "read": 1,
        "backoff_factor": 0.2,
        "status_forcelist": [502, 503, 504],
        "allowed_methods": ["POST"],
    }
    try:
        try:
            config = HttpConfig(url=url, timeout=timeout, auth=auth, retry=retry)
        except TypeError:  # a client older than its retry setting
            config = HttpConfig(url=url, timeout=timeout, auth=auth)
        transport = HttpTransport(config)
    except ValueError as exc:
        raise CommandError(f"bad OpenLineage URL {url!r}: {exc}") from None
    try:
        for event in evts:
            transport.emit(event)  # type: ignore[arg-type]  # the transport takes plain dicts
    except Exception as exc:  # requests' errors; the client may raise others
        raise CommandError(f"could not send OpenLineage events to {url}: {_why(exc)}") from None
    finally:
        transport.close()


def _why(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if response is not None and getattr(response, "status_code", None):
        return f"HTTP {response.status_code}"
    text = str(exc)
    if "Max retries exceeded" in text or "Connection refused" in text:
        return "connection refused"
    return text.splitlines()[0][:200] if text else type(exc).__name__


# -- datasets ----------------------------------------------------------------------------------


def _files(lineage: Lineage, read: bool) -> list[FileRecord]:
    """Files read (the first read of each path) or written (the last write of each path)."""
    chosen: dict[str, FileRecord] = {}
    for f in lineage.files:
        if (f.mode == "read") != read:
            continue
        if read and f.path in chosen:
            continue
        chosen[f.path] = f
    return list(chosen.values())


def _dataset_facets(lineage: Lineage, f: FileRecord) -> dict[str, Any]:
    node = lineage.nodes.get(f.node or "")
    facets: dict[str, Any] = {}
    fields = _schema_fields(node)
    if fields:
        facets["schema"] = facet("schema", fields=fields)
    if f.hash:
        facets["version"] = facet("version", datasetVersion=f.hash)
    return facets


def _schema_fields(node: Node | None) -> list[dict[str, Any]]:
    if node is None or node.kind not in ("DataFrame", "Series") or not node.columns:
        return []
    dtypes = node.dtypes or []
    out = []
    for i, col in enumerate(node.columns):
        field: dict[str, Any] = {"name": str(col)}
        if len(dtypes) == len(node.columns):
            field["type"] = dtypes[i]
        field["ordinal_position"] = i + 1
        out.append(field)
    return out


def _input(lineage: Lineage, f: FileRecord) -> dict[str, Any]:
    node = lineage.nodes.get(f.node or "")
    metrics: dict[str, Any] = {"columnMetrics": {}, "fileCount": 1}
    if node is not None and node.rows is not None and node.kind != "model":
        metrics["rowCount"] = node.rows
    if f.size is not None:
        metrics["bytes"] = f.size
    if f.mtime_ns:
        metrics["lastUpdated"] = _iso(datetime.fromtimestamp(f.mtime_ns / 1e9, UTC))
    return {
        "namespace": "file",
        "name": f.path,
        "facets": _dataset_facets(lineage, f),
        "inputFacets": {"dataQualityMetrics": facet("dataQualityMetrics", **metrics)},
    }


def _output(lineage: Lineage, columns: ColumnLineage, f: FileRecord) -> dict[str, Any]:
    node = lineage.nodes.get(f.node or "")
    facets = _dataset_facets(lineage, f)
    if f.node is not None:
        lineage_facet = _column_lineage(columns, f.node)
        if lineage_facet is not None:
            facets["columnLineage"] = lineage_facet
    stats: dict[str, Any] = {"fileCount": 1}
    if (
        node is not None
        and node.rows is not None
        and node.kind in ("DataFrame", "Series", "ndarray")
    ):
        stats["rowCount"] = node.rows
    if f.size is not None:
        stats["size"] = f.size
    return {
        "namespace": "file",
        "name": f.path,
        "facets": facets,
        "outputFacets": {"outputStatistics": facet("outputStatistics", **stats)},
    }


def _column_lineage(columns: ColumnLineage, node_id: str) -> dict[str, Any] | None:
    info = columns.of(node_id)
    fields: dict[str, Any] = {}
    for col, origins in info.columns.items():
        inputs = _input_fields(set(origins) | set(info.target))
        if col and inputs:
            fields[col] = {"inputFields": inputs}
    dataset = _input_fields(info.indirect)
    if not fields and not dataset:
        return None
    out = facet("columnLineage", fields=fields)
    if dataset:
        out["dataset"] = dataset
    return out


def _input_fields(origins: set[Origin] | frozenset[Origin]) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str], set[str]] = {}
    for o in origins:
        if o.source.startswith("object:") or not o.field:
            continue  # data of unknown origin is no dataset; an unnamed array has no field
        grouped.setdefault((o.source, o.field), set()).add(o.how)
    out = []
    for (source, field_name), hows in sorted(grouped.items()):
        transformations = []
        for how in sorted(hows, key=_order):
            direct = how in _DIRECT
            transformations.append(
                {
                    "type": "DIRECT" if direct else "INDIRECT",
                    "subtype": how,
                    "masking": False,
                }
            )
        out.append(
            {
                "namespace": "file",
                "name": source,
                "field": field_name,
                "transformations": transformations,
            }
        )
    return out


def _order(how: str) -> tuple[int, str]:
    return (0 if how in _DIRECT else 1, how)


# -- times -------------------------------------------------------------------------------------


def _parse_time(text: object) -> datetime | None:
    """An ISO time, or (as 1.0 logs give it) nanoseconds since the epoch."""
    if type(text) is int:
        return datetime.fromtimestamp(text / 1e9, tz=UTC)
    if not text or not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _end_time(lineage: Lineage) -> datetime | None:
    run = lineage.run
    ended = _parse_time(run.ended)
    if ended is not None:
        return ended
    started = _parse_time(run.started)
    if started is None:
        return None
    last = max((op.start_ns + op.duration_ns for op in lineage.ops), default=0)
    return started + timedelta(microseconds=last / 1000)


def _iso(when: datetime | None) -> str:
    when = when or datetime.now(UTC)
    text = when.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")
