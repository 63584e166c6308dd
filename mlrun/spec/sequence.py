"""The spec checks of dataset sequence's parameters and of ``model.mtp`` (which needs that dataset's
further targets), apart from ``models`` to keep it short."""

from __future__ import annotations

from pathlib import Path

from mlrun.data.names import SEQUENCE_DEFAULTS, SEQUENCE_PARAMS, SEQUENCE_SOURCES
from mlrun.hints import did_you_mean, hint
from mlrun.spec.errors import PathError


def check_sequence_params(params: dict, path: str | None) -> None:
    """dataset sequence: known parameter names and source; source csv needs data.path and params.column."""
    for key in params:
        if key not in SEQUENCE_PARAMS:
            did = hint(did_you_mean(key, SEQUENCE_PARAMS))
            raise PathError(f"params.{key}", f"sequence has no parameter {key!r}{did}; it takes: "
                                               f"{', '.join(SEQUENCE_PARAMS)}")
    source = params.get("source", SEQUENCE_DEFAULTS["source"])
    if source not in SEQUENCE_SOURCES:
        did = hint(did_you_mean(str(source), SEQUENCE_SOURCES))
        raise PathError("params.source", f"unknown sequence source {source!r}{did}; "
                                         f"valid: {', '.join(SEQUENCE_SOURCES)}")
    for key in ("window", "horizon", "length"):
        value = params.get(key, SEQUENCE_DEFAULTS[key])
        if not isinstance(value, int) or isinstance(value, bool) or value < (key != "horizon"):
            raise PathError(f"params.{key}", f"must be an integer >= {int(key != 'horizon')}; got {value!r}")
    if source == "csv":
        if path is None or params.get("column") is None:
            raise PathError("params.column" if path else "path", "sequence source csv needs data.path (the CSV "
                             "file) and data.params.column (the series' column)")
        if not Path(path).is_file():
            raise PathError("path", f"CSV file not found: {path}")


def check_mtp(spec) -> None:
    """model.mtp needs the further targets only dataset sequence has: horizon >= depth."""
    mtp = spec.model.mtp
    if mtp is None:
        return
    if spec.data.dataset != "sequence":
        raise PathError("model.mtp", f"needs dataset sequence (its rows carry the further targets); got "
                         f"dataset {spec.data.dataset}")
    horizon = spec.data.params.get("horizon", SEQUENCE_DEFAULTS["horizon"])
    if horizon < mtp.depth:
        raise PathError("model.mtp.depth", f"is {mtp.depth} but data.params.horizon is {horizon}: the data "
                         f"must carry at least depth further targets; set horizon: {mtp.depth} or more")
