"""Many specs validated and smoke-trained in one process (`mlrun smoke`), with a JUnit XML report for CI.

One process pays the imports once; each spec still gets its own fresh run directory (a temporary one
unless the caller keeps them), so a spec's smoke run is exactly `mlrun train SPEC --smoke`.
"""

from __future__ import annotations

import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

SPEC_SUFFIXES = (".yaml", ".yml")


@dataclass
class SmokeResult:
    """One spec's verdict: ok, invalid (validation failed), failed (the smoke run did not complete)."""

    spec: str
    verdict: str
    message: str = ""
    seconds: float = 0.0
    status: str | None = None  # the run's status when it trained

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"


def expand_specs(paths) -> list[Path]:
    """Each path as given, a folder as its *.yaml / *.yml files (recursively, sorted); missing paths raise."""
    from mlrun.spec.errors import ConfigError

    specs: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())
            if not found:
                raise ConfigError(f"{path}: no *.yaml or *.yml specs in this folder")
            specs.extend(found)
        elif path.exists():
            specs.append(path)
        else:
            raise ConfigError(f"no such spec or folder: {path}")
    return list(dict.fromkeys(specs))


def smoke_one(spec, runs_dir=None) -> SmokeResult:
    """Validate ``spec`` and run it as `mlrun train --smoke` would, in ``runs_dir`` or a temporary folder."""
    from mlrun.data.dataset import DataError
    from mlrun.experiment.preflight import baseline_specs
    from mlrun.experiment.run import train
    from mlrun.registry import RegistryError
    from mlrun.spec.errors import ConfigError
    from mlrun.spec.loading import load_config

    started = time.perf_counter()
    name = str(spec)
    try:
        cfg = load_config(spec)
        baseline_specs(cfg)
    except (ConfigError, DataError, RegistryError) as exc:
        return SmokeResult(name, "invalid", _one_line(exc), time.perf_counter() - started)
    with tempfile.TemporaryDirectory(prefix="mlrun-smoke-") as scratch:
        try:
            run = train(cfg, runs_dir or scratch, smoke=True, command=["mlrun", "smoke", name])
        except (ConfigError, DataError, RegistryError) as exc:
            return SmokeResult(name, "invalid", _one_line(exc), time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - a crashing spec is that spec's failure, not the batch's
            return SmokeResult(name, "failed", f"{type(exc).__name__}: {_one_line(exc)}",
                               time.perf_counter() - started)
    seconds = time.perf_counter() - started
    if run.status != "completed":
        return SmokeResult(name, "failed", f"the smoke run {run.status} ({run.stop_reason})", seconds, run.status)
    return SmokeResult(name, "ok", f"{run.epochs} epochs", seconds, run.status)


def smoke_many(specs, runs_dir=None, jobs: int = 1) -> list[SmokeResult]:
    """Every spec's result, in the given order; ``jobs`` > 1 spreads them over joblib worker processes."""
    if jobs == 1 or len(specs) < 2:
        return [smoke_one(spec, runs_dir) for spec in specs]
    from joblib import Parallel, delayed

    return list(Parallel(n_jobs=jobs)(delayed(smoke_one)(spec, runs_dir) for spec in specs))


def junit_xml(results: list[SmokeResult], suite: str = "mlrun smoke") -> str:
    """A JUnit XML report (testsuites > testsuite > testcase, <failure> or <error>), as CI systems render it."""
    failures = sum(r.verdict == "failed" for r in results)
    errors = sum(r.verdict == "invalid" for r in results)
    total = sum(r.seconds for r in results)
    root = ET.Element("testsuites", name=suite, tests=str(len(results)), failures=str(failures),
                      errors=str(errors), time=f"{total:.3f}")
    node = ET.SubElement(root, "testsuite", name=suite, tests=str(len(results)), failures=str(failures),
                         errors=str(errors), skipped="0", time=f"{total:.3f}")
    for result in results:
        case = ET.SubElement(node, "testcase", classname="mlrun.smoke", name=result.spec, time=f"{result.seconds:.3f}")
        if result.verdict == "failed":
            ET.SubElement(case, "failure", message=result.message, type="SmokeRunFailed").text = result.message
        elif result.verdict == "invalid":
            ET.SubElement(case, "error", message=result.message, type="InvalidSpec").text = result.message
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
