"""What a study module gets: where its runs go, how to run a spec of configs/studies/ as a sweep, and
how to find that sweep again for ``--table-only``."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from study import progress  # scripts/study.py's progress lines, shared by every study

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs" / "studies"
FIGURES = ROOT / "docs" / "studies"  # the PNGs docs/studies.md shows, as studies/NAME.png


def spec_name(spec: str) -> str:
    import yaml

    return yaml.safe_load((CONFIGS / spec).read_text(encoding="utf-8"))["name"]


def variant_spec(spec: str, variant: str | None, changes: dict | None) -> dict:
    """configs/studies/``spec`` as a dict, named ``<name>-<variant>`` (``variant`` None: its own name),
    with ``changes`` set."""
    import yaml

    raw = yaml.safe_load((CONFIGS / spec).read_text(encoding="utf-8"))
    if variant:
        raw["name"] = f"{raw['name']}-{variant}"
    for key, value in (changes or {}).items():
        *path, last = key.split(".")
        node = raw
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return raw


@dataclass
class Context:
    """One study's place: ``runs_dir`` (runs/studies/NAME), the worker count, the figures folder."""

    name: str
    runs_dir: Path
    jobs: int | None = 1
    figures: Path = FIGURES

    def sweep(self, spec: str, grid: dict | None = None, variant: str | None = None,
              changes: dict | None = None) -> Path:
        """Run configs/studies/``spec`` as a sweep under this study's runs folder; its directory.

        ``variant`` names a copy of the spec with ``changes`` ({dotted key: value}) applied, swept as
        ``<name>-<variant>`` (for arms that change several keys together); ``changes`` without a
        ``variant`` keep the spec's name."""
        import mlrun

        cfg = variant_spec(spec, variant, changes) if variant or changes else CONFIGS / spec
        result = mlrun.sweep(cfg, grid=grid, jobs=self.jobs, runs_dir=self.runs_dir,
                             on_event=progress, command=["scripts/study_all.py", "--only", self.name])
        print(f"  {result.counts}", flush=True)
        return result.path

    def latest(self, spec: str, variant: str | None = None) -> Path:
        """The newest sweep of configs/studies/``spec`` (or of its ``variant``) under this study's runs."""
        name = variant_spec(spec, variant, {})["name"] if variant else spec_name(spec)
        found = sorted(p.parent for p in self.runs_dir.glob(f"{name}-2*/sweep.json"))
        if not found:
            raise FileNotFoundError(f"no sweep of {spec} under {self.runs_dir}: run the study first "
                                    f"(python scripts/study_all.py --only {self.name})")
        return found[-1]

    def figure(self, filename: str) -> tuple[Path, str]:
        """Where to save a figure, and the link docs/studies.md uses for it."""
        self.figures.mkdir(parents=True, exist_ok=True)
        return self.figures / filename, f"studies/{filename}"

    # -- the measured run time, kept beside the runs so --table-only can still state it ---------------
    def record_time(self, seconds: float) -> None:
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        (self.runs_dir / "timing.json").write_text(
            json.dumps({"seconds": seconds, "finished": time.strftime("%Y-%m-%d %H:%M"), "jobs": self.jobs}))

    def measured(self) -> str:
        path = self.runs_dir / "timing.json"
        if not path.is_file():
            return "not measured"
        t = json.loads(path.read_text())
        return f"{t['seconds'] / 60:.1f} min with --jobs {t['jobs']} on 2 shared cores"
