"""Sweeps: one spec over a grid (or random draws) and several seeds, run in parallel.

    spec x axes x seeds -> trials -> executor (joblib/loky locally, or Dask) -> results -> driver

A worker trains in memory and returns the ``Outcome`` (metrics, history, model arrays); only the
driver writes, as results arrive: one ordinary run directory per trial under
``runs/<name>-<timestamp>/`` and the ``sweep.json`` manifest beside them. No shared filesystem is
needed (CSV data travels with the trial) and no two processes write the same file.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import math
import os
import re
import secrets
import shutil
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from mlrun import registry, runs
from mlrun.config import PART_KEYS, Config, ConfigError, flatten, load_config, parse_yaml, read_spec

MANIFEST = "sweep.json"
DISTRIBUTIONS = ("log_uniform", "uniform", "int_uniform")
FINISHED = ("completed", "diverged")  # results: --resume keeps them
STATUSES = ("pending", "completed", "diverged", "failed", "interrupted")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
_RANGE = re.compile(r"^range\((.*)\)$")


class SweepError(ConfigError):
    """A bad sweep (axes, manifest, cluster): one line, exit code 2."""


# -- axes ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Axis:
    """One swept key: a list of values, or (random search) a distribution on [low, high]."""

    key: str
    values: tuple | None = None
    distribution: str | None = None
    low: float | None = None
    high: float | None = None

    def to_dict(self) -> dict:
        if self.values is not None:
            return {"key": self.key, "values": list(self.values)}
        return {"key": self.key, "distribution": self.distribution, "min": self.low, "max": self.high}

    @classmethod
    def from_dict(cls, d: Mapping) -> Axis:
        if "values" in d:
            return cls(d["key"], tuple(d["values"]))
        return cls(d["key"], None, d["distribution"], d["min"], d["max"])


def split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets and quotes: "{a: 1, b: 2},[3, 4],5" -> 3 items."""
    items, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                raise SweepError(f"unbalanced {ch!r} in {text!r}")
        elif ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    if depth or quote:
        raise SweepError(f"unclosed bracket or quote in {text!r}")
    return [s.strip() for s in [*items, text[start:]]]


def _range(args: str, where: str) -> list[int]:
    try:
        bounds = [int(a) for a in split_top_level(args)]
    except ValueError:
        raise SweepError(f"{where}: range(a,b[,step]) takes integers; got range({args})") from None
    if not 2 <= len(bounds) <= 3 or (len(bounds) == 3 and bounds[2] == 0):
        raise SweepError(f"{where}: range takes a start, a stop and an optional non-zero step; "
                         f"got range({args})")
    values = list(range(*bounds))
    if not values:
        raise SweepError(f"{where}: range({args}) is empty (the stop is excluded, as in Python)")
    return values


def parse_values(text: str, where: str) -> list:
    """The values of ``--grid key=...``: split on top-level commas; each is YAML or range(a,b[,step])."""
    values: list = []
    for item in split_top_level(text):
        if not item:
            raise SweepError(f"{where}: empty value in {text!r} (a stray comma?)")
        match = _RANGE.match(item)
        values += _range(match.group(1), where) if match else [parse_yaml(item, where)]
    return values


def _check_key(key: str, where: str) -> str:
    if not _KEY.match(key):
        raise SweepError(f"{where}: {key!r} is not a dotted spec key (e.g. optimizer.learning_rate)")
    if key == "seed":
        raise SweepError(f"{where}: seeds are not an axis; use --seeds K (runs seed, seed+1, ..., seed+K-1)")
    return key


def _values_axis(key: str, values: list, where: str) -> Axis:
    if not values:
        raise SweepError(f"{where}: no values")
    seen = [canonical(v) for v in values]
    if len(set(seen)) < len(seen):
        twice = next(s for s in seen if seen.count(s) > 1)
        raise SweepError(f"{where}: the value {twice} is listed twice")
    return Axis(key, tuple(values))


def parse_grid(text: str) -> Axis:
    """``key=v1,v2,...`` (the --grid grammar) -> Axis."""
    key, sep, rest = str(text).partition("=")
    where = f"--grid {key.strip()}"
    if not sep:
        raise SweepError(f"--grid {text!r}: expected KEY=V1,V2,... e.g. model.activation=relu,elu")
    return _values_axis(_check_key(key.strip(), where), parse_values(rest, where), where)


def grid_axes(grid) -> list[Axis]:
    """The API's ``grid``: {key: [values]} (a str value uses the --grid grammar), or KEY=... strings."""
    if grid is None:
        return []
    if isinstance(grid, str):
        grid = [grid]
    if not isinstance(grid, Mapping):
        return [parse_grid(g) for g in grid]
    axes = []
    for key, values in grid.items():
        where = f"grid[{key!r}]"
        if isinstance(values, str):
            values = parse_values(values, where)
        elif isinstance(values, range):
            values = list(values)
        elif not isinstance(values, (list, tuple)):
            values = [values]
        axes.append(_values_axis(_check_key(str(key), where), list(values), where))
    return axes


def _spec_axis(key: str, spec, where: str) -> Axis:
    """One entry of ``sweep.parameters``: a list, {values: [...]}, {value: v} or {distribution, min, max}."""
    _check_key(key, where)
    if isinstance(spec, list):
        return _values_axis(key, spec, where)
    if not isinstance(spec, Mapping):
        raise SweepError(f"{where}: give values: [...], or distribution: {'|'.join(DISTRIBUTIONS)} "
                         "with min and max")
    if "values" in spec or "value" in spec:
        values = spec.get("values", [spec.get("value")])
        values = parse_values(values, where) if isinstance(values, str) else values
        return _values_axis(key, list(values) if isinstance(values, (list, tuple)) else [values], where)
    unknown = set(spec) - {"distribution", "min", "max"}
    if unknown or "distribution" not in spec:
        raise SweepError(f"{where}: unknown keys {sorted(unknown) or sorted(spec)}; give values: [...], or "
                         f"distribution: {'|'.join(DISTRIBUTIONS)} with min and max")
    return _distribution_axis(key, spec, where)


def _distribution_axis(key: str, spec: Mapping, where: str) -> Axis:
    kind, low, high = spec["distribution"], spec.get("min"), spec.get("max")
    if kind not in DISTRIBUTIONS:
        raise SweepError(f"{where}: distribution must be one of {', '.join(DISTRIBUTIONS)}; got {kind!r}")
    numbers = (int,) if kind == "int_uniform" else (int, float)
    if not all(isinstance(v, numbers) and not isinstance(v, bool) for v in (low, high)):
        what = "integers" if kind == "int_uniform" else "numbers"
        raise SweepError(f"{where}: {kind} needs min and max {what}; got min {low!r}, max {high!r}")
    if not low < high or (kind == "log_uniform" and low <= 0):
        floor = "0 < " if kind == "log_uniform" else ""
        raise SweepError(f"{where}: need {floor}min < max; got {low}, {high}")
    return Axis(key, None, kind, low, high)


def spec_axes(section) -> tuple[str, list[Axis], int | None, int | None]:
    """The spec's ``sweep:`` section -> (method, axes, n_trials, seeds)."""
    section = dict(section or {})
    unknown = set(section) - {"method", "parameters", "n_trials", "seeds"}
    if unknown:
        raise SweepError(f"sweep: unknown keys {', '.join(sorted(unknown))}; "
                         "valid: method, parameters, n_trials, seeds")
    method = section.get("method", "grid")
    if method not in ("grid", "random"):
        raise SweepError(f"sweep.method must be grid or random; got {method!r}")
    n_trials, seeds = section.get("n_trials"), section.get("seeds")
    for key, value in (("n_trials", n_trials), ("seeds", seeds)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise SweepError(f"sweep.{key} must be an integer >= 1; got {value!r}")
    params = section.get("parameters") or {}
    if not isinstance(params, Mapping):
        raise SweepError("sweep.parameters must map spec keys to {values: [...]} or {distribution: ...}")
    axes = [_spec_axis(str(k), v, f"sweep.parameters.{k}") for k, v in params.items()]
    return method, axes, n_trials, seeds


def merge_axes(base: list[Axis], extra: list[Axis]) -> list[Axis]:
    """Axes from the command line replace the spec's axis of the same key (in place) or come after."""
    out = list(base)
    for axis in extra:
        keys = [a.key for a in out]
        if axis.key in keys[len(base):]:
            raise SweepError(f"--grid {axis.key} is given twice; list all its values in one --grid")
        if axis.key in keys:
            out[keys.index(axis.key)] = axis
        else:
            out.append(axis)
    return out


# -- trials -------------------------------------------------------------------------------------------
def _ordered(value):
    """Mappings with ``name`` first, then sorted keys (the canonical form of a part spec)."""
    if isinstance(value, Mapping):
        keys = sorted(value, key=lambda k: (k != "name", str(k)))
        return {k: _ordered(value[k]) for k in keys}
    if isinstance(value, (list, tuple)):
        return [_ordered(v) for v in value]
    return value


def canonical(value) -> str:
    """One YAML flow text per value (floats as YAML 1.1 reads them back: 1.0e-05), for keys and overrides."""
    text = yaml.safe_dump(_ordered(value), default_flow_style=True, sort_keys=False, width=1 << 30,
                          allow_unicode=True).strip()
    text = text[:-3].rstrip() if text.endswith("\n...") else text
    if parse_yaml(text, "value") != value:  # e.g. the text "1e-3", which the spec loader reads as a float
        text = json.dumps(_ordered(value), separators=(", ", ": "), ensure_ascii=False)
    return text


@dataclass(frozen=True)
class Trial:
    """One run of the sweep: the axis overrides (``key=value`` with canonical values) and a seed."""

    overrides: tuple[str, ...]
    seed: int

    @property
    def all_overrides(self) -> list[str]:
        return [*self.overrides, f"seed={self.seed}"]

    @property
    def key(self) -> str:
        return "; ".join(self.all_overrides)


def grid_points(axes: list[Axis]) -> list[list[tuple[str, object]]]:
    """Every combination, the first axis varying slowest."""
    for axis in axes:
        if axis.values is None:
            raise SweepError(f"{axis.key}: a distribution needs random search (method: random or --random N)")
    return [list(zip([a.key for a in axes], combo)) for combo in itertools.product(*[a.values for a in axes])]


def _draw(axis: Axis, rng: np.random.Generator):
    if axis.values is not None:
        return axis.values[int(rng.integers(len(axis.values)))]
    if axis.distribution == "int_uniform":
        return int(rng.integers(axis.low, axis.high + 1))
    if axis.distribution == "log_uniform":
        return float(np.exp(rng.uniform(math.log(axis.low), math.log(axis.high))))
    return float(rng.uniform(axis.low, axis.high))


def random_points(axes: list[Axis], n_trials: int, seed: int) -> list[list[tuple[str, object]]]:
    """``n_trials`` draws from ``np.random.default_rng(seed)``, axis by axis; repeated points count once."""
    rng = np.random.default_rng(seed)
    points, seen = [], set()
    for _ in range(n_trials):
        point = [(a.key, _draw(a, rng)) for a in axes]
        token = tuple((k, canonical(v)) for k, v in point)
        if token not in seen:
            seen.add(token)
            points.append(point)
    return points


def expand(axes: list[Axis], method: str = "grid", n_trials: int | None = None, seed: int = 0,
           seeds: int = 1) -> list[Trial]:
    """Trials in a fixed order: each point with seeds seed, seed+1, ..., seed+seeds-1 next to each other."""
    if method == "random":
        if not n_trials:
            raise SweepError("random search needs a number of trials: sweep.n_trials or --random N")
        points = random_points(axes, n_trials, seed)
    else:
        points = grid_points(axes)
    return [Trial(tuple(f"{k}={canonical(v)}" for k, v in point), seed + j)
            for point in points for j in range(seeds)]


def fingerprint(spec: Mapping, axes: list[Axis], method: str, n_trials: int | None, seeds: int) -> str:
    """sha256 of the canonical JSON of everything that decides the trials."""
    blob = json.dumps({"spec": spec, "axes": [a.to_dict() for a in axes], "method": method,
                       "n_trials": n_trials, "seeds": seeds}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


# -- the plan: spec + axes -> validated trial configs ---------------------------------------------------
@dataclass
class Plan:
    """A sweep before it runs: the spec as written (no ``sweep:`` section), the axes and the trials."""

    name: str
    spec: dict
    axes: list[Axis]
    method: str
    n_trials: int | None
    seeds: int
    trials: list[Trial]
    configs: list[Config]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.spec, self.axes, self.method, self.n_trials, self.seeds)


def _raw_spec(cfg) -> tuple[dict, Config]:
    """The spec as the user wrote it (overrides apply to it, not to the resolved one) and its Config.

    A csv path is made absolute, as load_config resolves it relative to the spec's folder.
    """
    if isinstance(cfg, Config):
        raw = cfg.to_dict()
    elif isinstance(cfg, (str, Path)):
        raw = read_spec(cfg)
    elif isinstance(cfg, Mapping):
        raw = json.loads(json.dumps(dict(cfg), default=str))
    else:
        raise SweepError(f"a sweep spec is a YAML path, a mapping or a Config; got {type(cfg).__name__}")
    resolved = load_config(cfg)
    if resolved.data.dataset == "csv" and isinstance(raw.get("data"), dict):
        raw["data"]["path"] = resolved.data.path
    raw.setdefault("name", resolved.name)
    return raw, resolved


def make_plan(cfg, grid=None, seeds: int | None = None, random: int | None = None) -> Plan:
    """Expand and validate: every trial's Config is built here, so a bad axis fails before anything runs.

    ``seeds`` and ``random`` (None: the spec's sweep section, else 1 seed / the grid) win over the spec.
    """
    raw, resolved = _raw_spec(cfg)
    method, axes, n_trials, spec_seeds = spec_axes(raw.pop("sweep", None))
    axes = merge_axes(axes, grid_axes(grid))
    if random is not None:
        method, n_trials = "random", int(random)
    seeds = seeds if seeds is not None else spec_seeds or 1
    if int(seeds) < 1:
        raise SweepError(f"seeds must be >= 1; got {seeds}")
    return plan_from(raw, axes, method, n_trials, int(seeds))


def plan_from(raw: dict, axes: list[Axis], method: str, n_trials: int | None, seeds: int) -> Plan:
    base = load_config(raw)
    trials = expand(axes, method, n_trials, base.seed, seeds)
    configs = []
    for trial in trials:
        try:
            configs.append(load_config(raw, trial.all_overrides))
        except ConfigError as exc:
            raise SweepError(explain(raw, trial, exc)) from None
    return Plan(base.name, raw, axes, method, n_trials, seeds, trials, configs)


def explain(raw: dict, trial: Trial, exc: ConfigError) -> str:
    """A trial's config error; an axis renaming a part the spec gives parameters to suggests whole parts."""
    for override in trial.overrides:
        key, _, value = override.partition("=")
        if not key.endswith(".name"):
            continue
        parent = key[: -len(".name")]
        given = _lookup(raw, parent.split("."))
        if isinstance(given, Mapping) and set(given) - {"name"} and _fails_alone(raw, override):
            return _rename_message(parent, given, parse_yaml(value, key), str(exc))
    return f"trial {trial.key}: {exc}"


def _lookup(raw, parts: list[str]):
    for part in parts:
        if isinstance(raw, list) and part.isdigit() and int(part) < len(raw):
            raw = raw[int(part)]
        elif isinstance(raw, Mapping):
            raw = raw.get(part)
        else:
            return None
    return raw


def _fails_alone(raw: dict, override: str) -> bool:
    try:
        load_config(raw, [override])
    except ConfigError:
        return True
    return False


def _rename_message(parent: str, given: Mapping, new_name, error: str) -> str:
    kind = PART_KEYS.get(parent) or parent.rsplit(".", 1)[-1]
    try:
        accepted = set(registry.parameters(kind, str(new_name)))
    except registry.RegistryError:
        accepted = set()
    rejected = sorted(k for k in given if k != "name" and k not in accepted)
    kept = {"name": new_name, **{k: v for k, v in given.items() if k != "name" and k in accepted}}
    old = canonical(dict(given))
    why = (f"{kind} {new_name} does not take {', '.join(rejected)}, which the spec sets ({parent}: {old})"
           if rejected else error)
    return (f"axis {parent}.name={new_name}: {why}; sweep whole parts instead (each value replaces "
            f"{parent}): --grid '{parent}={canonical(kept)},{old}'")


# -- the worker (top level: it is pickled by reference to loky and Dask workers) ---------------------
@dataclass
class WorkerResult:
    """What a worker sends back: the in-memory Outcome, or the error of a trial that raised."""

    index: int
    outcome: object | None
    error: str | None = None
    traceback: str | None = None
    seconds: float = 0.0
    host: str = ""
    versions: tuple = ()


def versions() -> tuple[str, str]:
    """(mlrun, numpy) versions: a cluster must match the driver's."""
    from mlrun import __version__

    return __version__, np.__version__


def run_trial(index: int, cfg: Config, csv_text: str | None = None) -> WorkerResult:
    """Train one trial in memory under a BLAS thread limit (training.threads, default 1); never raises
    for a failing trial (its error comes back instead), so one bad trial cannot stop the sweep."""
    from threadpoolctl import threadpool_limits

    from mlrun import experiment

    started = time.time()
    host = socket.gethostname()
    try:
        with threadpool_limits(limits=cfg.training.threads or 1):
            dataset = experiment.load_data(cfg, csv_text=csv_text)
            outcome = experiment.run_training(cfg, dataset)
    except Exception as exc:  # noqa: BLE001 - any error is this trial's result
        return WorkerResult(index, None, f"{type(exc).__name__}: {exc}", traceback.format_exc(),
                            time.time() - started, host, versions())
    return WorkerResult(index, outcome, None, None, time.time() - started, host, versions())


# -- executors: (index, Config, csv_text) tasks in, WorkerResults out as they finish ---------------------
def default_jobs() -> int:
    from joblib import cpu_count

    return max(1, cpu_count())


def joblib_results(tasks: list[tuple], jobs: int) -> Iterator[WorkerResult]:
    """loky worker processes (``jobs`` = 1 runs in this process); results in completion order."""
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")
    return parallel(delayed(run_trial)(*task) for task in tasks)


def check_cluster(client) -> int:
    """Refuse a cluster whose mlrun or numpy differs from the driver's; returns the number of workers."""
    mine = versions()
    try:
        found = client.run(versions)
    except Exception as exc:  # noqa: BLE001 - an unpicklable/unimportable mlrun on the workers
        raise SweepError(f"the Dask workers cannot run mlrun ({type(exc).__name__}: {exc}); install "
                         f"mlrun=={mine[0]} and numpy=={mine[1]} on them") from None
    if not found:
        raise SweepError("the Dask cluster has no workers yet; start some (dask worker ADDRESS) and retry")
    for worker, theirs in sorted(found.items()):
        if tuple(theirs) != mine:
            raise SweepError(f"Dask worker {worker} has mlrun {theirs[0]} and numpy {theirs[1]}, the driver "
                             f"mlrun {mine[0]} and numpy {mine[1]}: install the same versions on the cluster")
    return len(found)


class DaskExecutor:
    """A Dask distributed client (``address``, or ``local`` for a LocalCluster of ``jobs`` processes)."""

    def __init__(self, address: str, jobs: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise SweepError("--dask needs the optional extra: pip install 'mlrun[dask]'") from None
        self.cluster = None
        try:
            if address == "local":
                self.cluster = LocalCluster(n_workers=jobs or default_jobs(), threads_per_worker=1,
                                            dashboard_address=None, silence_logs=logging.ERROR)
                self.client = Client(self.cluster)
            else:
                self.client = Client(address, timeout="20s")
        except OSError as exc:
            self.close()
            raise SweepError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            self.workers = check_cluster(self.client)
        except BaseException:
            self.close()
            raise

    def results(self, tasks: list[tuple]) -> Iterator[WorkerResult]:
        from distributed import as_completed

        token = secrets.token_hex(4)
        csv = {t[2] for t in tasks if t[2] is not None}
        shared = {text: self.client.scatter(text, broadcast=True) for text in csv}  # sent once per worker
        futures = {self.client.submit(run_trial, i, cfg, shared.get(text), key=f"mlrun-trial-{token}-{i}",
                                      pure=False): i for i, cfg, text in tasks}
        try:
            for future in as_completed(futures):
                try:
                    yield future.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker fails its trial, not the sweep
                    yield WorkerResult(futures[future], None, f"{type(exc).__name__}: {exc}")
        finally:
            self.client.cancel(list(futures))

    def close(self) -> None:
        for thing in (getattr(self, "client", None), self.cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # noqa: BLE001, S110 - closing is best effort
                    pass


# -- results ------------------------------------------------------------------------------------------
@dataclass
class TrialRecord:
    """A trial's state in sweep.json: status, its run directory (relative to the sweep), main metrics."""

    index: int
    key: str
    overrides: list[str]
    seed: int
    status: str = "pending"
    run: str | None = None
    metrics: dict = field(default_factory=dict)
    error: str | None = None
    seconds: float | None = None

    def to_dict(self) -> dict:
        return {"index": self.index, "overrides": self.overrides, "seed": self.seed, "status": self.status,
                "run": self.run, "metrics": self.metrics, "error": self.error, "seconds": self.seconds}

    def reset(self) -> None:
        self.status, self.run, self.metrics, self.error, self.seconds = "pending", None, {}, None, None


@dataclass
class SweepResult:
    """What ``sweep``/``resume_sweep`` return: the sweep directory, every trial's record, the outcome."""

    path: Path | None
    name: str
    trials: list[TrialRecord]
    fingerprint: str
    to_run: list[int] = field(default_factory=list)
    workers: int = 0
    executor: str = ""
    interrupted: bool = False
    stopped: bool = False  # --fail-fast ended it

    def count(self, status: str) -> int:
        return sum(t.status == status for t in self.trials)

    @property
    def n_failed(self) -> int:
        return self.count("failed")

    @property
    def counts(self) -> dict[str, int]:
        return {s: self.count(s) for s in STATUSES if self.count(s)}

    @property
    def running(self) -> int:
        """Trials being trained now (at most one per worker)."""
        left = sum(self.trials[i].status == "pending" for i in self.to_run)
        return min(self.workers, left)

    @property
    def exit_code(self) -> int:
        return 130 if self.interrupted else 1 if self.n_failed else 0

    @property
    def metric(self) -> str | None:
        keys = {k for t in self.trials for k in t.metrics}
        return next((k for k in ("test.accuracy", "test.rmse", "validation.accuracy", "validation.rmse")
                     if k in keys), None)

    def best(self) -> TrialRecord | None:
        key = self.metric
        done = [t for t in self.trials if isinstance(t.metrics.get(key), (int, float))]
        if not done:
            return None
        pick = min if key.endswith("rmse") else max
        return pick(done, key=lambda t: t.metrics[key])


def _main_metrics(metrics: dict) -> dict:
    """The scalar validation and test metrics, flat ("test.accuracy"), for sweep.json and progress."""
    return {f"{split}.{k}": v for split in ("validation", "test")
            for k, v in (metrics.get(split) or {}).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _claim_dir(runs_dir, name: str) -> Path:
    """runs/<name>-<YYYYmmdd-HHMMSS>/ claimed with os.mkdir (a collision adds 4 hex digits)."""
    root = Path(runs_dir)
    root.mkdir(parents=True, exist_ok=True)
    base = f"{runs.sanitize_name(name)}-{time.strftime('%Y%m%d-%H%M%S')}"
    for suffix in ["", *(f"-{secrets.token_hex(2)}" for _ in range(1000))]:
        try:
            os.mkdir(root / (base + suffix))
            return root / (base + suffix)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not claim a sweep directory under {root}")


class _Driver:
    """The only writer: turns each WorkerResult into a run directory and keeps sweep.json current."""

    def __init__(self, plan: Plan, result: SweepResult, manifest: dict, on_event: Callable | None) -> None:
        self.plan, self.result, self.manifest = plan, result, manifest
        self.on_event = on_event or (lambda event, result, trial=None: None)
        self.csv: dict[str, str] = {}

    def write_manifest(self) -> None:
        self.manifest.update(updated=_now(), counts=self.result.counts,
                             trials={t.key: t.to_dict() for t in self.result.trials})
        runs.write_json(self.result.path / MANIFEST, self.manifest)

    def csv_text(self, cfg: Config) -> str | None:
        if cfg.data.dataset != "csv":
            return None
        from mlrun.data import read_text

        if cfg.data.path not in self.csv:
            self.csv[cfg.data.path] = read_text(cfg.data.path)
        return self.csv[cfg.data.path]

    def record(self, res: WorkerResult) -> TrialRecord:
        trial = self.result.trials[res.index]
        cfg = self.plan.configs[res.index]
        if res.outcome is not None and res.outcome.status == "interrupted":
            trial.status = "interrupted"
            return trial
        if res.versions and tuple(res.versions) != versions():
            error = (f"worker {res.host} runs mlrun/numpy {'/'.join(res.versions)}; "
                     f"the driver {'/'.join(versions())}")
            res = WorkerResult(res.index, None, error, None, res.seconds, res.host)
        width = len(str(len(self.result.trials) - 1))
        run_dir = runs.RunDir.create(self.result.path, f"{cfg.name}-{res.index:0{width}d}", kind="train")
        trial.run, trial.seconds = run_dir.name, round(res.seconds, 3)
        try:
            self._write_run(run_dir, trial, cfg, res)
        except Exception as exc:  # noqa: BLE001 - a result we cannot record fails its trial, not the sweep
            trial.status, trial.error = "failed", f"recording the result: {type(exc).__name__}: {exc}"
            run_dir.finish("failed", None, 0, error=trial.error)
        return trial

    def _write_run(self, run_dir: runs.RunDir, trial: TrialRecord, cfg: Config, res: WorkerResult) -> None:
        from mlrun import experiment

        spec = cfg.to_dict()
        run_dir.write_yaml("config.yaml", spec)
        run_dir.start(kind="train", params=flatten(spec), resolved={}, seed=cfg.seed, smoke=False,
                      command=self.manifest.get("command"),
                      extra={"name": cfg.name, "sweep": {"dir": self.result.path.name, "trial": trial.key},
                             "worker": res.host})
        if res.outcome is None:
            run_dir.finish("failed", None, 0, error=res.error, traceback=res.traceback,
                           timings={"train_seconds": None, "total_seconds": res.seconds})
            trial.status, trial.error = "failed", res.error
            return
        # plots are off by default: drawing them (seconds per run) in the one driver would serialise a sweep
        plots = bool(self.manifest.get("plots"))
        run = experiment.record_outcome(run_dir, res.outcome, res.seconds, plots=plots)
        trial.status, trial.metrics = run.status, _main_metrics(run.metrics)

    def run(self, todo: list[int], results: Callable[[list], Iterator[WorkerResult]],
            fail_fast: bool) -> SweepResult:
        """Send the trials ``todo``, record results as they arrive; Ctrl-C or --fail-fast stop cleanly."""
        result = self.result
        result.to_run = list(todo)
        tasks = [(i, self.plan.configs[i], self.csv_text(self.plan.configs[i])) for i in todo]
        self.write_manifest()
        self.on_event("start", result)
        stream = results(tasks) if tasks else iter(())
        try:
            for res in stream:
                with _deferred_sigint():
                    trial = self.record(res)
                    self.write_manifest()
                if trial.status == "interrupted":
                    raise KeyboardInterrupt
                self.on_event("trial", result, trial)
                if trial.status == "failed" and fail_fast:
                    result.stopped = True
                    break
        except KeyboardInterrupt:
            result.interrupted = True
        finally:
            _close(stream)
            self._stop_unfinished()
        self.on_event("end", result)
        return result

    def _stop_unfinished(self) -> None:
        """Trials (probably) running when the sweep stopped become ``interrupted``; the rest stay pending."""
        result = self.result
        left = [i for i in result.to_run if result.trials[i].status == "pending"]
        if result.interrupted or result.stopped:
            for i in left[: max(1, result.workers)]:
                result.trials[i].status = "interrupted"
        self.write_manifest()


def _close(stream) -> None:
    close = getattr(stream, "close", None)
    if close is None:
        return
    try:
        close()  # joblib aborts its workers, Dask cancels the futures
    except KeyboardInterrupt:
        pass


class _deferred_sigint:
    """Hold a Ctrl-C until a run directory and sweep.json are fully written (then raise it)."""

    def __enter__(self):
        import signal
        import threading

        self.hit, self.previous = [], None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, lambda *_: self.hit.append(True))
        return self

    def __exit__(self, *exc) -> None:
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        if self.hit and exc[0] is None:
            raise KeyboardInterrupt


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- the public API -----------------------------------------------------------------------------------
def _records(plan: Plan) -> list[TrialRecord]:
    return [TrialRecord(i, t.key, list(t.overrides), t.seed) for i, t in enumerate(plan.trials)]


def _execute(plan: Plan, result: SweepResult, manifest: dict, todo: list[int], jobs, dask, fail_fast,
             on_event) -> SweepResult:
    """Run ``todo`` with joblib (``jobs`` processes) or on Dask, through the one driver."""
    if dask:
        executor = DaskExecutor(dask, jobs)
        result.workers, result.executor = executor.workers, f"dask {dask}"
        manifest["executor"] = {"kind": "dask", "address": dask, "workers": executor.workers}
        try:
            return _Driver(plan, result, manifest, on_event).run(todo, executor.results, fail_fast)
        finally:
            executor.close()
    n = min(int(jobs or default_jobs()), max(1, len(todo)))
    result.workers, result.executor = n, f"joblib {n} process{'es' if n > 1 else ''}"
    manifest["executor"] = {"kind": "joblib", "jobs": n}
    driver = _Driver(plan, result, manifest, on_event)
    return driver.run(todo, lambda tasks: joblib_results(tasks, n), fail_fast)


def sweep(cfg, grid=None, seeds: int | None = None, jobs: int | None = None, dask: str | None = None,
          runs_dir="runs",
          *, random: int | None = None, fail_fast: bool = False, dry_run: bool = False, plots: bool = False,
          on_event: Callable | None = None, command: list[str] | None = None) -> SweepResult:
    """Run the spec ``cfg`` over ``grid`` ({key: [values]}, plus the spec's ``sweep:`` section) x ``seeds``.

    Each trial becomes a run directory under ``runs_dir/<name>-<timestamp>/``, next to sweep.json.
    ``jobs`` local processes (default: the number of cores), or ``dask`` = a scheduler address or
    "local". ``random=N`` draws N points instead of the grid; ``plots`` draws each run's figures.
    ``on_event(event, result, trial=None)`` is called with "start", "trial" (one finished) and "end".
    ``dry_run`` expands and validates only.
    """
    plan = make_plan(cfg, grid, seeds, random)
    result = SweepResult(None, plan.name, _records(plan), plan.fingerprint)
    if dry_run:
        return result
    if jobs is not None and int(jobs) < 1:
        raise SweepError(f"jobs must be >= 1; got {jobs}")
    result.path = _claim_dir(runs_dir, plan.name)
    manifest = {
        "format": 1, "name": plan.name, "created": _now(), "updated": None, "fingerprint": plan.fingerprint,
        "method": plan.method, "n_trials": plan.n_trials, "seeds": plan.seeds, "spec": plan.spec,
        "axes": [a.to_dict() for a in plan.axes], "command": command or sys.argv, "versions": runs.versions(),
        "plots": bool(plots),
    }
    try:
        everything = list(range(len(plan.trials)))
        return _execute(plan, result, manifest, everything, jobs, dask, fail_fast, on_event)
    except SweepError:  # e.g. an unreachable or mismatched Dask cluster: leave no empty sweep folder
        with contextlib.suppress(OSError):
            result.path.rmdir()
        raise


def load_manifest(path) -> dict:
    file = Path(path) / MANIFEST
    if not file.is_file():
        raise SweepError(f"not a sweep directory (no {MANIFEST}): {path}")
    try:
        manifest = runs.read_json(file)
        manifest["spec"], manifest["axes"], manifest["trials"], manifest["fingerprint"]  # noqa: B018
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SweepError(f"{file} is unreadable ({type(exc).__name__}: {exc})") from None
    return manifest


def _kept(path: Path, trial: TrialRecord) -> bool:
    """A completed or diverged trial whose run directory still says so."""
    if trial.status not in FINISHED or not trial.run:
        return False
    try:
        return runs.read_json(path / trial.run / "run.json").get("status") == trial.status
    except (OSError, ValueError):
        return False


def _supersede(path: Path, trial: TrialRecord) -> None:
    """Move a rerun trial's old directory to .superseded/ (kept, but out of compare's sight)."""
    if trial.run and (path / trial.run).is_dir():
        (path / ".superseded").mkdir(exist_ok=True)
        shutil.move(str(path / trial.run), str(path / ".superseded" / trial.run))


def resume_sweep(path, jobs: int | None = None, dask: str | None = None, *, fail_fast: bool = False,
                 on_event: Callable | None = None, command: list[str] | None = None) -> SweepResult:
    """Re-expand a sweep from its sweep.json; keep completed and diverged trials, rerun the others."""
    path = Path(path)
    manifest = load_manifest(path)
    axes = [Axis.from_dict(a) for a in manifest["axes"]]
    plan = plan_from(manifest["spec"], axes, manifest.get("method", "grid"), manifest.get("n_trials"),
                     int(manifest.get("seeds", 1)))
    if plan.fingerprint != manifest["fingerprint"]:
        raise SweepError(f"{path / MANIFEST}: its spec or axes were edited (the fingerprint differs); "
                         "start a new sweep instead")
    result = SweepResult(path, plan.name, _records(plan), plan.fingerprint)
    stored = manifest["trials"]
    for trial in result.trials:
        old = stored.get(trial.key) or {}
        trial.status, trial.run = old.get("status", "pending"), old.get("run")
        trial.metrics, trial.error = old.get("metrics") or {}, old.get("error")
        trial.seconds = old.get("seconds")
    todo = [t.index for t in result.trials if not _kept(path, t)]
    for i in todo:
        _supersede(path, result.trials[i])
        result.trials[i].reset()
    manifest["command"] = command or sys.argv
    manifest.setdefault("resumed", []).append(_now())
    return _execute(plan, result, manifest, todo, jobs, dask, fail_fast, on_event)
