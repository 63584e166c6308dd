"""The sweep plan: axes (--grid and the spec's ``sweep:`` section) x seeds -> trials -> validated configs.

Nothing here runs or writes anything: ``make_plan`` expands and validates a sweep, so a bad axis
fails before any trial starts, and ``fingerprint`` tells ``--resume`` whether the plan was edited.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlrun import registry
from mlrun.spec.errors import ConfigError
from mlrun.spec.loading import Config, load_config
from mlrun.spec.models import PART_KEYS
from mlrun.spec.yaml_text import parse_yaml, read_spec
from mlrun.sweeps.axes import Axis, SweepError, canonical, grid_axes, merge_axes, spec_axes


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


MAX_TRIALS = 100_000  # each is a validated config and a line of sweep.json before anything runs


def check_trial_count(axes: list[Axis], method: str, n_trials: int | None, seeds: int) -> int:
    """The number of trials, counted before any is made; refused above MAX_TRIALS with the figure."""
    if method == "random":
        points = int(n_trials or 0)
    else:
        points = math.prod(len(a.values) for a in axes if a.values is not None)
    total = points * int(seeds)
    if total > MAX_TRIALS:
        raise SweepError(f"the sweep would have {total:.3g} trials ({points:,} points x {seeds:,} seeds); "
                         f"at most {MAX_TRIALS:,}: use fewer values, --random N or fewer --seeds")
    return total


def expand(axes: list[Axis], method: str = "grid", n_trials: int | None = None, seed: int = 0,
           seeds: int = 1) -> list[Trial]:
    """Trials in a fixed order: each point with seeds seed, seed+1, ..., seed+seeds-1 next to each other."""
    check_trial_count(axes, method, n_trials, seeds)
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

    @property
    def seed(self) -> int:
        """The spec's seed (the first trial seed)."""
        return min((t.seed for t in self.trials), default=0)


SHUFFLE_STREAM = 0x5357  # the submission order's own generator stream, apart from every training seed


def submission_order(todo: list[int], n_trials: int, seed: int, seeds: int = 1) -> list[int]:
    """``todo`` in a shuffled order, for a pruned sweep: the grid order puts similar trials together (the
    seeds of a configuration, then its neighbours), so ASHA's first rungs would fill without competition.
    The permutation of all ``n_trials`` by ``np.random.default_rng([SHUFFLE_STREAM, seed])`` is the same
    for a sweep and its ``--resume``, which submits its remaining trials in the same relative order.
    With ``seeds`` > 1 the configurations are shuffled and each one's seeds stay together (seed-aware
    pruning judges a configuration once its seeds reach a rung, so they should get there together)."""
    wanted, seeds = set(todo), max(1, int(seeds))
    points = np.random.default_rng([SHUFFLE_STREAM, int(seed)]).permutation(n_trials // seeds)
    order = [int(p) * seeds + j for p in points for j in range(seeds)]
    return [i for i in order if i in wanted]


def _raw_spec(cfg) -> tuple[dict, Config]:
    """The spec as the user wrote it (overrides apply to it, not to the resolved one) and its Config.

    A csv path is made absolute, as load_config resolves it relative to the spec's folder.
    """
    if isinstance(cfg, Config):
        raw = cfg.to_dict(part_defaults=False)  # overrides replace parts as given
    elif isinstance(cfg, (str, Path)):
        raw = read_spec(cfg)
    elif isinstance(cfg, Mapping):
        raw = json.loads(json.dumps(dict(cfg), default=str))
    else:
        raise SweepError(f"a sweep spec is a YAML path, a mapping or a Config; got {type(cfg).__name__}")
    resolved = load_config(cfg)
    if resolved.data.dataset == "csv" and isinstance(raw.get("data"), dict):
        raw["data"]["path"] = resolved.data.path
        if resolved.data.test_path is not None:
            raw["data"]["test_path"] = resolved.data.test_path
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
    if method == "random" and not axes:
        raise SweepError("random search has nothing to draw from: give axes with --grid KEY=VALUES or a "
                         "sweep.parameters section in the spec")
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
            raise SweepError(explain(raw, trial, exc, axes)) from None
    return Plan(base.name, raw, axes, method, n_trials, seeds, trials, configs)


def explain(raw: dict, trial: Trial, exc: ConfigError, axes: list[Axis] = ()) -> str:
    """A trial's config error; an axis renaming a part the spec gives parameters to suggests the same
    axis as whole parts (each of its names with the spec's parameters that name accepts)."""
    for override in trial.overrides:
        key, _, value = override.partition("=")
        if not key.endswith(".name"):
            continue
        parent = key[: -len(".name")]
        given = _lookup(raw, parent.split("."))
        if isinstance(given, Mapping) and set(given) - {"name"} and _fails_alone(raw, override):
            names = next((a.values for a in axes if a.key == key and a.values), None) or [parse_yaml(value, key)]
            return _rename_message(parent, given, parse_yaml(value, key), names, str(exc))
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


def _accepted(kind: str, name) -> set[str]:
    try:
        return set(registry.parameters(kind, str(name)))
    except registry.RegistryError:
        return set()


def _rename_message(parent: str, given: Mapping, new_name, names: list, error: str) -> str:
    kind = PART_KEYS.get(parent) or parent.rsplit(".", 1)[-1]
    rejected = sorted(k for k in given if k != "name" and k not in _accepted(kind, new_name))
    old = canonical(dict(given))
    parts = [{"name": name, **{k: v for k, v in given.items() if k != "name" and k in _accepted(kind, name)}}
             for name in names]
    why = (f"{kind} {new_name} does not take {', '.join(rejected)}, which the spec sets ({parent}: {old})"
           if rejected else error)
    return (f"axis {parent}.name={new_name}: {why}; sweep whole parts instead (each value replaces "
            f"{parent}): --grid '{parent}={','.join(canonical(p) for p in parts)}'")
