"""sweep.json on disk: a snapshot, plus an append-only log of every change since (sweep.log.jsonl).

Rewriting sweep.json whole after each trial or rung would cost O(trials) per write, O(trials^2) per
sweep. So a change (a trial's record, a rung value, the session) is one JSON line appended to the
log and flushed to the OS at once (a killed driver loses nothing), and sweep.json is rewritten
atomically, which empties the log, at the end and otherwise only once ``SNAPSHOT_SECONDS`` have passed
and the log has grown as large as the snapshot: the rewrites then cost at most what the log lines
cost, O(1) a change however long the sweep, and a reader replays at most a snapshot's worth. Each line has a
sequence number and the snapshot the last one it holds, so a crash between the two steps only
leaves lines a reader skips; a torn last line (a crash mid-write) is ignored. Readers go through
``read_manifest``, which replays the log onto the snapshot.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from mlrun.runs.files import read_json, write_json

MANIFEST = "sweep.json"
LOG = "sweep.log.jsonl"
SNAPSHOT_SECONDS = 10.0


def apply(manifest: dict, event: dict) -> None:
    """One logged change, applied to a manifest (the writer and every reader use this same function)."""
    if "trial" in event:
        manifest.setdefault("trials", {})[event["trial"]] = event["record"]
    elif "rung" in event:
        rungs = manifest.setdefault("pruning", {}).setdefault("rungs", {})
        rungs.setdefault(str(event["rung"]), {})[event["key"]] = event["value"]
    elif "completed" in event:
        manifest.setdefault("pruning", {}).setdefault("completed", {})[event["completed"]] = event["values"]
    elif "session" in event:
        sessions = manifest.setdefault("sessions", [])
        sessions[-1:] = [event["session"]]


def read_manifest(path) -> dict:
    """sweep.json with its log replayed: the sweep's state as of the last change written."""
    folder = Path(path)
    manifest = read_json(folder / MANIFEST)
    done = int(manifest.get("log_seq", 0))
    try:
        lines = (folder / LOG).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return manifest
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:  # a torn line, written when the driver died: nothing after it was written
            break
        if isinstance(event, dict) and int(event.get("seq", 0)) > done:
            apply(manifest, event)
            manifest["log_seq"] = done = int(event["seq"])
    return manifest


class Journal:
    """The only writer of sweep.json and its log, for one session of a sweep."""

    def __init__(self, folder: Path, manifest: dict, snapshot_seconds: float = SNAPSHOT_SECONDS) -> None:
        self.folder, self.manifest, self.snapshot_seconds = Path(folder), manifest, snapshot_seconds
        self.seq = int(manifest.get("log_seq", 0))
        self.log = None
        self.last = -float("inf")
        self.log_bytes = self.snapshot_bytes = 0

    def write(self, *events: dict) -> None:
        """Apply ``events`` to the manifest and append them to the log; a snapshot when one is due."""
        lines = []
        for event in events:
            apply(self.manifest, event)
            self.seq += 1
            lines.append(json.dumps({"seq": self.seq, **event}, allow_nan=False) + "\n")
        if self.log is None:
            self.log = open(self.folder / LOG, "a", encoding="utf-8")  # noqa: SIM115 - open for the session
        text = "".join(lines)
        self.log.write(text)
        self.log.flush()
        self.log_bytes += len(text)
        if self.log_bytes >= self.snapshot_bytes and time.monotonic() - self.last >= self.snapshot_seconds:
            self.snapshot()

    def snapshot(self, **fields) -> None:
        """sweep.json rewritten whole (atomically, fsynced), then the log emptied: its lines are in it."""
        self.manifest.update(fields, log_seq=self.seq)
        self.snapshot_bytes = write_json(self.folder / MANIFEST, self.manifest).stat().st_size
        self.log_bytes = 0
        if self.log is not None:
            self.log.close()
        self.log = open(self.folder / LOG, "w", encoding="utf-8")  # noqa: SIM115 - truncated, kept open
        self.last = time.monotonic()

    def close(self, **fields) -> None:
        """The last snapshot; the (empty) log is removed, so a finished sweep is sweep.json alone."""
        self.snapshot(**fields)
        self.log.close()
        self.log = None
        os.unlink(self.folder / LOG)
