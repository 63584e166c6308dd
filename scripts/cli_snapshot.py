#!/usr/bin/env python
"""Record a snapshot of mlrun's command-line behaviour, for before/after comparisons of a refactor.

    python scripts/cli_snapshot.py OUTDIR [--python PYTHON] [--pythonpath DIR] [--keep]

Runs a fixed list of ``python -m mlrun ...`` invocations (train, resume, predict, lr-find, sweep,
compare, validate, registry, schema and bad inputs) in a fresh temporary working directory (holding a
copy of the repository's ``configs/``), and writes one normalised text file per invocation into
OUTDIR: the command, the exit code, stdout and stderr, and for commands that create run directories
the sorted file list of each new directory plus its deterministic content (metrics.json,
history.csv without the seconds column, run.json with volatile keys masked, sweep.json likewise).
Two snapshots compare with ``diff -r BEFORE AFTER``.

``--python`` is the interpreter that runs mlrun (default: this one); ``--pythonpath DIR`` is put first
on PYTHONPATH so that ``DIR/mlrun`` is the code under test (e.g. a worktree of another commit).

Normalised (so that two runs of the same code give identical snapshots):
- run-directory names ``<name>-YYYYmmdd-HHMMSS[-xxxx]`` -> ``<name>-<TS>``, ISO dates -> ``<DATETIME>``;
- the temporary directory, the code tree, the mlrun package and the interpreter prefix -> ``<TMP>``,
  ``<TREE>``, ``<MLRUN>``, ``<PREFIX>``;
- durations (``1.3s``, ``0.254 s``, ``4m05s``, ``3 seconds``, ``H:MM:SS``) -> ``<T>s`` / ``<ELAPSED>``;
  inside table lines the replacement keeps the cell width, so table layout stays comparable;
- pids, the hostname, version strings, hex addresses, line numbers in warnings/tracebacks, ANSI
  escapes, spinner glyphs, ``\\r`` redraws and trailing blanks;
- in run.json / sweep.json: pid, host, heartbeat, start/finish times, timings, versions, BLAS info.
Before the ``compare`` invocations the recorder pins ``timings`` in every run.json to a value derived
from the run's epoch count (compare prints durations; the pinned values keep --sort duration and the
csv/json output deterministic). The one invocation interrupted by SIGINT stops at a time-dependent
point: its record drops the progress lines and metric tables and masks the remaining numbers; the
resume of it keeps only its final progress line, and the record states whether the resumed run's
metrics and history are identical to an uninterrupted run of the same spec (README: "bit-identically").

Environment: COLUMNS=80, NO_COLOR=1, TERM=dumb, PYTHONHASHSEED=0, MPLBACKEND=Agg, no FORCE_COLOR.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 300

DIGITS_HEADER = [f"pixel_{i}_{j}" for i in range(8) for j in range(8)]
DIGITS_ROWS = [
    [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8, 8, 0,
     0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0],
    [0, 0, 0, 12, 13, 5, 0, 0, 0, 0, 0, 11, 16, 9, 0, 0, 0, 0, 3, 15, 16, 6, 0, 0, 0, 7, 15, 16, 16, 2, 0, 0,
     0, 0, 1, 16, 16, 3, 0, 0, 0, 0, 1, 16, 16, 6, 0, 0, 0, 0, 1, 16, 16, 6, 0, 0, 0, 0, 0, 11, 16, 10, 0, 0],
    [0, 0, 0, 4, 15, 12, 0, 0, 0, 0, 3, 16, 15, 14, 0, 0, 0, 0, 8, 13, 8, 16, 0, 0, 0, 0, 1, 6, 15, 11, 0, 0,
     0, 1, 8, 13, 15, 1, 0, 0, 0, 9, 16, 16, 5, 0, 0, 0, 0, 3, 13, 16, 16, 11, 5, 0, 0, 0, 0, 3, 11, 16, 9, 0],
]
DIABETES_CSV = """age,sex,bmi,bp,s1,s2,s3,s4,s5,s6
0.03808,0.05068,0.0617,0.02187,-0.04422,-0.03482,-0.0434,-0.00259,0.01991,-0.01765
-0.00188,-0.04464,-0.05147,-0.02633,-0.00845,-0.01916,0.07441,-0.03949,-0.06833,-0.0922
"""

# -- normalisation ------------------------------------------------------------------------------------
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[=>]")
SPINNER = re.compile(r"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏⣾⣽⣻⢿⡿⣟⣯⣷]")
STAMP = re.compile(r"-\d{8}-\d{6}(?:-[0-9a-f]{4})?(?![0-9a-f])")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:?\d{2}|Z)?")
ELAPSED = re.compile(r"(?<![\d:.])\d{1,2}:\d{2}:\d{2}(?![\d:])")
NUM = r"\d+(?:\.\d+)?(?:e[-+]?\d+)?"
DURATION = re.compile(rf"( *)(?<![\w.\-]){NUM}(?:\s?(?:s|sec|secs|seconds|ms)\b)"
                      r"|( *)(?<![\w.])\d+m\d{2}s\b|( *)(?<![\w.])\d+h\d{2}m\b")
PID = re.compile(r"\b(pid[ =:]+|process )\d+")
HEXADDR = re.compile(r"0x[0-9a-fA-F]{6,}")
PYLINE = re.compile(r"(\.py\"?)(:|, line )\d+")  # warnings and tracebacks: file.py:123
VERSION = re.compile(r"(\bversion\s+)v?\d+(?:\.\d+)+\S*", re.I)
TABLE_CHARS = set("│┃║|┏┡┗└┌├┼┬┴┤╇╈╋━─")

VOLATILE_KEYS = {"pid", "host", "heartbeat", "started", "started_unix", "finished", "created", "updated",
                 "timings", "versions", "blas", "seconds"}


def is_table_line(line: str) -> bool:
    return bool(line) and (line.lstrip()[:1] in TABLE_CHARS or "│" in line or "┃" in line)


def _duration_sub(line: str, keep_width: bool) -> str:
    def repl(m):
        text = m.group(0)
        lead = len(text) - len(text.lstrip(" "))
        token = "<T>s"
        if keep_width and len(text) >= len(token):
            return token.rjust(len(text))
        return " " * lead + token
    return DURATION.sub(repl, line)


class Normaliser:
    def __init__(self, replacements: list[tuple[str, str]]) -> None:
        # longest first, so /tmp/x/runs wins over /tmp/x
        self.replacements = sorted({(a, b) for a, b in replacements if a}, key=lambda p: -len(p[0]))
        host = socket.gethostname()
        self.host = re.compile(rf"\b{re.escape(host)}\b") if len(host) >= 4 else None

    def paths(self, text: str) -> str:
        for old, new in self.replacements:
            text = text.replace(old, new)
        return text

    def __call__(self, text: str) -> str:
        text = text.replace("\r\n", "\n")
        text = ANSI.sub("", text)
        text = "\n".join(part.split("\r")[-1] for part in text.split("\n"))  # keep what a redraw left
        text = SPINNER.sub("", text)
        text = self.paths(text)
        text = STAMP.sub("-<TS>", text)
        text = ISO.sub("<DATETIME>", text)
        text = ELAPSED.sub("<ELAPSED>", text)
        text = PID.sub(lambda m: m.group(1) + "<PID>", text)
        text = HEXADDR.sub("0x<ADDR>", text)
        text = PYLINE.sub(lambda m: m.group(1) + m.group(2) + "<LINE>", text)
        text = VERSION.sub(lambda m: m.group(1) + "<VERSION>", text)
        if self.host is not None:
            text = self.host.sub("<HOST>", text)
        lines = [_duration_sub(line, is_table_line(line)).rstrip() for line in text.split("\n")]
        return "\n".join(lines).rstrip("\n") + ("\n" if lines and any(lines) else "")


def mask_json(obj, path=()):
    """Volatile values replaced by "<MASKED>"; the rest unchanged (key order kept)."""
    if isinstance(obj, dict):
        return {k: ("<MASKED>" if k in VOLATILE_KEYS and obj[k] is not None else mask_json(v, path + (k,)))
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [mask_json(v, path) for v in obj]
    return obj


def dump_json(obj, indent: int = 0) -> str:
    """JSON with one key per line but lists of scalars (confusion matrices...) on one line."""
    pad = "  " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad}  {json.dumps(k)}: {dump_json(v, indent + 1)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(obj, list):
        if all(not isinstance(v, (dict, list)) for v in obj) or all(
                isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v) for v in obj):
            return json.dumps(obj)
        items = [f"{pad}  {dump_json(v, indent + 1)}" for v in obj]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(obj)


# -- the recorder -------------------------------------------------------------------------------------
class Recorder:
    def __init__(self, outdir: Path, work: Path, python: str, env: dict, norm: Normaliser) -> None:
        self.outdir, self.work, self.python, self.env, self.norm = outdir, work, python, env, norm
        self.count = 0
        self.slow: list[tuple[float, str]] = []

    # ---- helpers
    def run_dirs(self) -> set[Path]:
        found = set()
        for base in ("runs", "runs-sweep", "runs-odd"):
            root = self.work / base
            if root.exists():
                for rj in root.rglob("run.json"):
                    if ".superseded" not in rj.parts:
                        found.add(rj.parent)
                for sj in root.rglob("sweep.json"):
                    found.add(sj.parent)
        return found

    def rel(self, path: Path) -> str:
        return self.norm(str(path.relative_to(self.work))).strip()

    def describe_dir(self, d: Path, content: bool = True, only_status: bool = False) -> list[str]:
        out = [f"--- new directory: {self.rel(d)}", "files:"]
        for f in sorted(p for p in d.rglob("*") if p.is_file()):
            rel = f.relative_to(d)
            if rel.parts[0] == ".superseded":
                continue
            out.append(f"  {self.norm(str(rel)).strip()}")
        if only_status:
            info = json.loads((d / "run.json").read_text())
            out.append("run.json (status only): " + json.dumps(
                {k: info.get(k) for k in ("kind", "status", "stop_reason", "signal", "smoke")}))
            return out
        if not content:
            return out
        if (d / "sweep.json").exists():
            out += ["sweep.json (volatile keys masked):", self.norm(dump_json(mask_json(json.loads(
                (d / "sweep.json").read_text())))).rstrip("\n")]
            return out
        if (d / "metrics.json").exists():
            out += ["metrics.json:", self.norm(dump_json(json.loads((d / "metrics.json").read_text()))).rstrip("\n")]
        for name in ("history.csv", "lr_find.csv"):
            if (d / name).exists():
                out += [f"{name} (seconds column masked):", self.norm(masked_csv(d / name)).rstrip("\n")]
        if (d / "run.json").exists():
            out += ["run.json (volatile keys masked):",
                    self.norm(dump_json(mask_json(json.loads((d / "run.json").read_text())))).rstrip("\n")]
        return out

    def write(self, slug: str, lines: list[str]) -> None:
        self.count += 1
        path = self.outdir / f"{self.count:02d}-{slug}.txt"
        path.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")

    # ---- one invocation
    def mlrun(self, slug: str, *args: str, notes=(), dirs: str = "content", files=(), interrupt_after=None,
              post=None, extra=None) -> dict:
        """Run ``python -m mlrun ARGS`` in the work dir and record it. ``dirs``: "content", "list",
        "status" or "none" for new run directories; ``files``: output files to include; ``interrupt_after``:
        a file name whose appearance in a new run directory triggers SIGINT; ``post``: text filter."""
        before = self.run_dirs()
        cmd = [self.python, "-m", "mlrun", *args]
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=self.work, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        interrupted = None
        if interrupt_after:
            interrupted = self._interrupt_when(proc, before, interrupt_after)
        try:
            stdout, stderr = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            stderr += b"\n[recorder: killed after timeout]\n"
        elapsed = time.monotonic() - started
        self.slow.append((elapsed, slug))
        out, err = (self.norm(b.decode("utf-8", "replace")) for b in (stdout, stderr))
        if post is not None:
            out, err = post(out), post(err)
        lines = [self.norm(f"$ mlrun {shlex.join(args)}").rstrip("\n")]
        lines += [f"# {self.norm(n).strip()}" for n in notes]
        if interrupt_after:
            lines.append(f"# SIGINT sent once {interrupt_after} appeared: {interrupted}")
        lines += [f"exit code: {proc.returncode}", "--- stdout", out.rstrip("\n"), "--- stderr", err.rstrip("\n")]
        new = sorted(self.run_dirs() - before)
        top = [d for d in new if not any(p in d.parents for p in new)]  # a sweep: the sweep folder only
        for d in top:
            if dirs == "none":
                continue
            lines += self.describe_dir(d, content=dirs == "content", only_status=dirs == "status")
            if (d / "sweep.json").exists():
                for trial in sorted(t for t in new if d in t.parents):
                    lines += ["", *self.describe_dir(trial, content=dirs == "content")]
        for f in files:
            p = self.work / f
            lines.append(f"--- file {f}: " + ("exists" if p.exists() else "missing"))
            if p.exists() and p.suffix in (".csv", ".yaml", ".txt", ".json", ".md"):
                lines.append(self.norm(p.read_text(encoding="utf-8", errors="replace")).rstrip("\n"))
        if extra is not None:
            lines += extra(new)
        self.write(slug, lines)
        print(f"  [{self.count:02d}] {slug}: exit {proc.returncode} ({elapsed:.1f}s)", file=sys.stderr)
        return {"rc": proc.returncode, "new": new, "top": top}

    def _interrupt_when(self, proc, before, filename) -> str:
        deadline = time.monotonic() + TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            for d in self.run_dirs() - before:
                if (d / filename).exists():
                    proc.send_signal(signal.SIGINT)
                    return "yes"
            time.sleep(0.003)
        return "no (the process ended first)"


def masked_csv(path: Path) -> str:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    if not rows:
        return ""
    masked = [i for i, name in enumerate(rows[0]) if "second" in name or name in ("time", "elapsed")]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for n, row in enumerate(rows):
        writer.writerow([("<T>" if i in masked and n else c) for i, c in enumerate(row)])
    return buf.getvalue()


# -- harness actions (between invocations) -------------------------------------------------------------
def edit_json(path: Path, **changes) -> None:
    info = json.loads(path.read_text())
    info.update(changes)
    path.write_text(json.dumps(info, indent=2))


def pin_timings(work: Path) -> int:
    """Every run.json's timings become a function of its epoch count (compare prints durations)."""
    n = 0
    for rj in sorted(work.rglob("run.json")):
        try:
            info = json.loads(rj.read_text())
        except ValueError:
            continue  # the deliberately corrupt one
        if isinstance(info, dict) and isinstance(info.get("timings"), dict):
            epochs = info.get("epochs") or 0
            info["timings"] = {"train_seconds": round(0.25 * epochs, 3), "total_seconds": round(1.0 + 0.25 * epochs, 3)}
            rj.write_text(json.dumps(info, indent=2))
            n += 1
    return n


def write_inputs(work: Path) -> None:
    """Small input files the invocations read: feature rows for predict, broken specs and data."""
    inp = work / "inputs"
    inp.mkdir()
    (inp / "digits_rows.csv").write_text(",".join(DIGITS_HEADER) + "\n"
                                         + "".join(",".join(map(str, r)) + "\n" for r in DIGITS_ROWS))
    (inp / "diabetes_rows.csv").write_text(DIABETES_CSV)
    penguins = (work / "configs/examples/penguins_small.csv").read_text().splitlines()
    (inp / "penguins_rows.csv").write_text("\n".join(penguins[:7]) + "\n")  # with the species column: ignored
    header = penguins[0].split(",")
    keep = [i for i, h in enumerate(header) if h != "species" and h != "body_mass_g"]
    (inp / "penguins_missing_column.csv").write_text(
        "\n".join(",".join(line.split(",")[i] for i in keep) for line in penguins[:4]) + "\n")
    (inp / "penguins_bad_cell.csv").write_text("\n".join(penguins[:3] + ["Adelie,39.1,oops,181,3750"]
                                                         + penguins[3:20]) + "\n")
    (inp / "unknown_key.yaml").write_text("name: bad-key\ndata: {dataset: iris}\n"
                                          "model: {hidden_layers: 1, nuerons: 8}\n")
    (inp / "bad_value.yaml").write_text("name: bad-value\ndata: {dataset: iris, test_size: 1.5}\n"
                                        "training: {epochs: -3}\n")
    (inp / "unknown_optimizer.yaml").write_text("name: bad-opt\ndata: {dataset: iris}\noptimizer: {name: adamw}\n")
    (inp / "bad_yaml.yaml").write_text("name: [unclosed\ndata: {dataset: iris\n")
    (inp / "bad_csv_spec.yaml").write_text("name: bad-csv\ndata: {dataset: csv, path: penguins_bad_cell.csv, "
                                           "target: species}\n")


# -- the recorded set -----------------------------------------------------------------------------------
def drop_progress(text: str) -> str:
    """For the SIGINT-interrupted run: no epoch lines, no metric table, numbers masked."""
    keep = [line for line in text.split("\n") if not line.startswith("epoch ") and not is_table_line(line)
            and line.strip() != "metrics"]
    return re.sub(r"(?<![\w<])\d+(?:\.\d+)?(?![\w>])", "<N>", "\n".join(keep))


def last_epoch_line_only(text: str) -> str:
    lines = text.split("\n")
    epochs = [i for i, line in enumerate(lines) if re.match(r"epoch \d+/\d+ ", line)]
    drop = set(epochs[:-1])
    return "\n".join(line for i, line in enumerate(lines) if i not in drop)


def record_all(rec: Recorder) -> None:
    w = rec.work
    QS, DIAB, CSVX = "configs/quickstart.yaml", "configs/examples/diabetes_regression.yaml", \
        "configs/examples/csv_classification.yaml"
    one = lambda r: r["top"][0] if r["top"] else None  # noqa: E731

    # top level
    rec.mlrun("version", "--version")
    rec.mlrun("help", "--help")

    # training
    rec.mlrun("train-quickstart-smoke", "train", QS, "--smoke")
    e2 = one(rec.mlrun("train-quickstart-epochs2", "train", QS, "--set", "training.epochs=2", "--name", "qs-e2"))
    rec.mlrun("train-quickstart-selu-rmsprop", "train", QS, "--set", "training.epochs=2", "--set",
              "model.activation=selu", "--set", "optimizer={name: rmsprop, learning_rate: 0.002}",
              "--name", "qs-selu")
    rec.mlrun("train-quickstart-seed1-quiet", "train", QS, "--set", "training.epochs=3", "--set",
              "optimizer.learning_rate=3e-3", "--set", "model.neurons=[48, 24]", "--seed", "1",
              "--name", "qs-seed1", "-q")
    diab = one(rec.mlrun("train-diabetes-regression", "train", DIAB, "--set", "training.epochs=6"))
    csvx = one(rec.mlrun("train-csv-example", "train", CSVX, "--set", "training.epochs=5"))
    rec.mlrun("train-moons-full-batch-runs-dir", "train", "configs/examples/moons_full_batch.yaml", "--set",
              "training.epochs=40", "--set", "training.tolerance=0.05", "--runs-dir", "runs/extra")
    rec.mlrun("train-default-dnn-smoke", "train", "configs/default_dnn.yaml", "--smoke")
    rec.mlrun("train-diverges", "train", QS, "--set", "training.epochs=3", "--set", "optimizer.learning_rate=1e4",
              "--set", "training.early_stopping=null", "--name", "qs-diverge")

    # resume: a finished run marked interrupted by hand (deterministic), then a real SIGINT
    base = one(rec.mlrun("train-for-resume", "train", QS, "--set", "training.epochs=3", "--name", "qs-resume"))
    if base is not None:
        edit_json(base / "run.json", status="interrupted", stop_reason="interrupted", signal=2)
        rec.mlrun("train-resume-edited", "train", "--resume", str(base.relative_to(w)),
                  notes=["setup: run.json of the qs-resume run edited to status interrupted, signal 2"])
        rec.mlrun("train-resume-completed-refused", "train", "--resume", str(base.relative_to(w)), dirs="none")

    heavy = ["--set", "model.neurons=128", "--set", "training.batch_size=8", "--set", "training.epochs=20",
             "--set", "training.early_stopping=null"]
    straight = one(rec.mlrun("train-uninterrupted-reference", "train", QS, *heavy, "--name", "qs-straight"))
    r = rec.mlrun("train-sigint", "train", QS, *heavy, "--name", "qs-sigint", interrupt_after="checkpoint.json",
                  dirs="status", post=drop_progress,
                  notes=["the stopping epoch depends on timing: progress lines and tables dropped, numbers masked"])
    sig = one(r)
    if sig is not None:
        def same_as_straight(_new):
            out = []
            for name in ("metrics.json", "history.csv"):
                a, b = sig / name, straight / name if straight else None
                same = b is not None and a.exists() and b.exists() and (
                    a.read_text() == b.read_text() if name.endswith(".json") else masked_csv(a) == masked_csv(b))
                out.append(f"--- {name} identical to the uninterrupted qs-straight run: {'yes' if same else 'NO'}")
            return out
        rec.mlrun("train-resume-after-sigint", "train", "--resume", str(sig.relative_to(w)), post=last_epoch_line_only,
                  dirs="none", extra=same_as_straight,
                  notes=["the epoch it resumes from depends on timing: only the last progress line is kept"])

    # predict
    if csvx is not None:
        rec.mlrun("predict-csv-stdout", "predict", str(csvx.relative_to(w)), "inputs/penguins_rows.csv")
        rec.mlrun("predict-missing-column", "predict", str(csvx.relative_to(w)), "inputs/penguins_missing_column.csv")
    if e2 is not None:
        rec.mlrun("predict-digits-output-file", "predict", str(e2.relative_to(w)), "inputs/digits_rows.csv",
                  "-o", "out/digits_pred.csv", files=["out/digits_pred.csv"])
    if diab is not None:
        rec.mlrun("predict-regression", "predict", str(diab.relative_to(w)), "inputs/diabetes_rows.csv")

    # lr-find
    lrf = one(rec.mlrun("lr-find-quickstart", "lr-find", QS, "--steps", "60"))
    rec.mlrun("lr-find-valley-write-spec", "lr-find", QS, "--steps", "40", "--start", "1e-4", "--end", "1",
              "--rule", "valley", "--set", "model.activation=relu", "--write-spec", "out/lr.yaml",
              files=["out/lr.yaml"])
    rec.mlrun("lr-find-too-few-steps", "lr-find", QS, "--steps", "5")
    if lrf is not None:
        rec.mlrun("predict-lr-find-run-refused", "predict", str(lrf.relative_to(w)), "inputs/digits_rows.csv")

    # sweep
    rec.mlrun("sweep-grid-seeds", "sweep", QS, "--grid", "model.activation=relu,elu", "--grid",
              "training.epochs=2", "--seeds", "2", "--jobs", "1", "--runs-dir", "runs-sweep")
    rec.mlrun("sweep-dry-run", "sweep", QS, "--grid", "model.activation=relu,elu,selu", "--grid",
              "model.neurons=range(16,65,16)", "--grid", "optimizer={name: sgd, learning_rate: 0.05},{name: adam}",
              "--dry-run", "--runs-dir", "runs-sweep")
    rec.mlrun("sweep-random-dry-run", "sweep", QS, "--grid", "model.activation=relu,elu,selu", "--grid",
              "model.neurons=range(16,65,16)", "--random", "3", "--seeds", "2", "--dry-run", "--runs-dir", "runs-sweep")
    rec.mlrun("sweep-bad-value", "sweep", QS, "--grid", "model.activation=relu,nope", "--jobs", "1",
              "--runs-dir", "runs-sweep")

    # compare: odd directories, then pinned timings
    odd = w / "runs-odd"
    odd.mkdir()
    if e2 is not None:
        shutil.copytree(e2, odd / e2.name)
        stale = odd / e2.name.replace("qs-e2", "qs-stale")
        shutil.copytree(e2, stale)
        edit_json(stale / "run.json", status="running", pid=None, heartbeat=0)
        (stale / "metrics.json").unlink()
    (odd / "corrupt-20250101-000000-abcd").mkdir()
    (odd / "corrupt-20250101-000000-abcd" / "run.json").write_text("{not json")
    (odd / "foreign").mkdir()
    (odd / "foreign" / "run.json").write_text('{"hello": "world"}')
    n = pin_timings(w)
    note = [f"setup: timings pinned in {n} run.json files (total_seconds = 1 + epochs/4)"]
    rec.mlrun("compare-table", "compare", notes=note)
    rec.mlrun("compare-csv", "compare", "runs", "--format", "csv")
    rec.mlrun("compare-json", "compare", "runs", "--format", "json")
    rec.mlrun("compare-markdown", "compare", "runs", "--format", "markdown", "--precision", "3")
    rec.mlrun("compare-filter-sort-top", "compare", "runs", "--filter", "data.dataset=digits", "--filter",
              "training.epochs>=2", "--filter", "model.activation~el", "--filter", "optimizer!=rmsprop",
              "--sort", "test.f1_macro", "--asc", "--top", "3")
    rec.mlrun("compare-sort-duration", "compare", "runs", "--sort", "duration", "--desc", "--format", "csv",
              "--metrics", "test.accuracy,test.rmse")
    rec.mlrun("compare-metrics-all-params", "compare", "runs/extra", "--metrics", "test.accuracy,test.log_loss",
              "--all-params", "--format", "csv")
    rec.mlrun("compare-regression", "compare", "runs", "--filter", "task=regression", "--format", "markdown")
    rec.mlrun("compare-group-sweep", "compare", "runs-sweep", "--group")
    rec.mlrun("compare-kind-lr-find", "compare", "runs", "--kind", "lr_find")
    rec.mlrun("compare-kind-all-smoke", "compare", "runs", "--kind", "all", "--include-smoke", "--format", "csv",
              "--metrics", "test.accuracy")
    rec.mlrun("compare-odd-dirs", "compare", "runs-odd", "--include-smoke")
    rec.mlrun("compare-plot", "compare", "runs", "--filter", "data.dataset=digits", "--plot", "out/curves.png",
              "--format", "csv", "--metrics", "test.accuracy", files=["out/curves.png"])
    rec.mlrun("compare-missing-path", "compare", "nope")
    rec.mlrun("compare-bad-filter", "compare", "runs", "--filter", "optimizer.learning_rate>>1")

    # validate
    specs = sorted(str(p.relative_to(w)) for p in (w / "configs").rglob("*.yaml"))
    rec.mlrun("validate-shipped-specs", "validate", *specs)
    rec.mlrun("validate-show", "validate", "--show", QS, "--set", "schedule={name: one_cycle, max_lr: 0.01}")
    rec.mlrun("validate-data-csv", "validate", "--data", CSVX)
    rec.mlrun("validate-data-bad-cell", "validate", "--data", "inputs/bad_csv_spec.yaml")
    rec.mlrun("validate-unknown-optimizer", "validate", "inputs/unknown_optimizer.yaml")
    rec.mlrun("validate-several-some-bad", "validate", QS, "inputs/unknown_key.yaml", "inputs/bad_value.yaml",
              "inputs/bad_yaml.yaml", "inputs/missing.yaml")
    rec.mlrun("validate-set-no-equals", "validate", QS, "--set", "training.epochs")

    # registry, schema
    rec.mlrun("registry-all", "registry")
    rec.mlrun("registry-optimizer", "registry", "optimizer")
    rec.mlrun("registry-unknown-kind", "registry", "optimizers")
    rec.mlrun("schema", "schema")

    # bad inputs to train
    rec.mlrun("train-unknown-key-set", "train", QS, "--set", "model.nuerons=8")
    rec.mlrun("train-bad-value-set", "train", QS, "--set", "training.epochs=-1")
    rec.mlrun("train-unknown-optimizer", "train", QS, "--set", "optimizer.name=adamw")
    rec.mlrun("train-bad-set-syntax", "train", QS, "--set", "=3")
    rec.mlrun("train-missing-spec", "train", "inputs/missing.yaml")
    rec.mlrun("train-unknown-option", "train", QS, "--epochs", "3")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs mlrun (default: this one)")
    ap.add_argument("--pythonpath", type=Path, help="put DIR first on PYTHONPATH (the code tree under test)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary working directory")
    args = ap.parse_args()

    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE", "PY_COLORS")}
    env.update(COLUMNS="80", LINES="24", NO_COLOR="1", TERM="dumb", PYTHONHASHSEED="0", MPLBACKEND="Agg",
               PYTHONIOENCODING="utf-8", PYTHONDONTWRITEBYTECODE="1", TZ="UTC")
    if args.pythonpath:
        tree = str(args.pythonpath.resolve())
        env["PYTHONPATH"] = os.pathsep.join([tree, *filter(None, [os.environ.get("PYTHONPATH")])])
    probe = subprocess.run([args.python, "-c", "import mlrun, os, sys; print(os.path.dirname(os.path.abspath("
                            "mlrun.__file__))); print(sys.prefix); print(sys.base_prefix)"],
                           env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
    if probe.returncode != 0:
        print(f"cannot import mlrun with {args.python}:\n{probe.stderr}", file=sys.stderr)
        return 2
    pkg, prefix, base_prefix = probe.stdout.split("\n")[:3]
    print(f"mlrun under test: {pkg} (python {args.python})", file=sys.stderr)

    configs = Path(pkg).parent / "configs"
    if not configs.is_dir():
        configs = ROOT / "configs"
    if not configs.is_dir():
        print(f"no configs/ next to {pkg} or in {ROOT}", file=sys.stderr)
        return 2
    outdir = args.outdir
    if outdir.exists():
        foreign = [p.name for p in outdir.iterdir() if not re.fullmatch(r"\d{2,}-[\w.-]+\.txt", p.name)]
        if foreign:
            print(f"{outdir} holds files that are not snapshot records ({', '.join(foreign[:3])}); "
                  "refusing to overwrite it", file=sys.stderr)
            return 2
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="mlrun-cli-snapshot-"))
    shutil.copytree(configs, work / "configs")
    write_inputs(work)
    (work / "out").mkdir()
    replacements = []
    for p in {str(work), os.path.realpath(work)}:
        replacements.append((p, "<TMP>"))
    replacements += [(pkg, "<MLRUN>"), (os.path.realpath(pkg), "<MLRUN>"),
                     (str(Path(pkg).parent), "<TREE>"), (os.path.realpath(Path(pkg).parent), "<TREE>"),
                     (prefix, "<PREFIX>"), (base_prefix, "<BASE_PREFIX>"), (args.python, "<PYTHON>")]
    started = time.monotonic()
    rec = Recorder(outdir, work, args.python, env, Normaliser(replacements))
    try:
        record_all(rec)
    finally:
        if args.keep:
            print(f"working directory kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    total = time.monotonic() - started
    slowest = ", ".join(f"{slug} {t:.1f}s" for t, slug in sorted(rec.slow, reverse=True)[:5])
    print(f"{rec.count} invocations recorded in {outdir} in {total:.0f}s (slowest: {slowest})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
