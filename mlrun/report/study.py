"""What a report shows: the runs ``mlrun.compare`` selects, as table rows and as single runs.

Selection is compare's own (filters, sort, top, seed groups); this module only asks it twice, once
for the table (grouped with --group) and once for the single runs behind it (their curves, their
sections), and reads the sweep.json of any sweep the runs belong to.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field

from mlrun import __version__
from mlrun.comparison.keys import all_keys, differing_keys, direction, main_metric, resolve_key
from mlrun.comparison.select import Rows, compare, group_rows
from mlrun.runs.files import read_json


@dataclass
class Study:
    """The table's rows (``table.columns`` the display columns), the single runs in table order, the
    curve groups (every configuration's runs, seeds together), the figures' metric and the header's facts."""

    paths: list[str]
    table: Rows
    runs: list[dict]
    groups: list[dict]
    metric: str | None
    params: list[str]
    grouped: bool
    sweeps: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    made: str = ""
    version: str = __version__

    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.runs:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return dict(sorted(counts.items(), key=lambda item: -item[1]))


def gather(paths, filters=(), sort=None, descending=None, top=None, group=False, kind="train",
           include_smoke=False, metrics=None, metric=None, on_warning=None) -> Study:
    """The study below ``paths`` as ``mlrun.compare`` selects it (same arguments, same errors:
    FileNotFoundError for a missing path, ValueError for an unknown key). ``metric``: the figures'
    metric (default: the sort key if it is a metric, else the main metric)."""
    paths = [os.fspath(p) for p in ([paths] if isinstance(paths, (str, os.PathLike)) else paths)]
    messages: list[str] = []

    def warn(message: str) -> None:
        messages.append(message)
        if on_warning is not None:
            on_warning(message)

    options = dict(filters=filters, sort=sort, descending=descending, kind=kind, include_smoke=include_smoke,
                   metrics=metrics)
    table = compare(paths, top=top, group=group, on_warning=warn, **options)
    singles = compare(paths, group=False, on_warning=lambda _: None, **options)
    if top is not None and group:  # the runs behind the top groups only
        kept = {run for row in table for run in row.get("runs", [])}
        singles = Rows(row for row in singles if row["run"] in kept)
    elif top is not None:
        singles = Rows(singles[:top])
    readable = [row for row in singles if row["status"] != "unreadable"]
    return Study(paths=paths, table=table, runs=list(singles), groups=group_rows(readable),
                 metric=_figure_metric(singles, metric, sort), params=differing_keys(list(singles)),
                 grouped=group, sweeps=_sweeps(singles), warnings=messages,
                 made=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"))


def _figure_metric(rows: list[dict], metric: str | None, sort: str | None) -> str | None:
    known = all_keys(rows)
    if metric is not None:
        return resolve_key(metric, known, "metric")
    if sort is not None:
        key = resolve_key(sort, known, "sort key")
        if direction(key) is not None:
            return key
    return main_metric(rows)


def _sweeps(rows: list[dict]) -> list[dict]:
    """The sweep.json of each sweep folder holding one of the runs (unreadable ones left out)."""
    found: dict[str, dict] = {}
    seen: set[str] = set()
    for row in rows:
        folder = os.path.dirname(os.path.abspath(row.get("path") or "."))
        if folder in seen:
            continue
        seen.add(folder)
        if not os.path.isfile(os.path.join(folder, "sweep.json")):
            continue
        try:
            manifest = read_json(os.path.join(folder, "sweep.json"))
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict):
            found[folder] = {"path": folder, "name": manifest.get("name"), "method": manifest.get("method"),
                             "seeds": manifest.get("seeds"), "pruning": manifest.get("pruning")}
    return list(found.values())
