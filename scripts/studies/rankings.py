"""The activation and optimizer rankings on digits and breast_cancer (scripts/study.py) as a section of
docs/studies.md: the tables regenerated into the hand-written text of studies/text/rankings.md."""

from __future__ import annotations

import json
from pathlib import Path

import study as S

MINUTES = 13
TEXT = Path(__file__).with_name("text") / "rankings.md"


def run(ctx) -> None:
    paths = S.run_studies(ctx.jobs, str(ctx.runs_dir))
    (ctx.runs_dir / "sweeps.json").write_text(json.dumps([str(p) for p in paths]))


def section(ctx) -> str:
    paths = json.loads((ctx.runs_dir / "sweeps.json").read_text(encoding="utf-8"))
    return TEXT.read_text(encoding="utf-8").replace("{{tables}}", S.report(paths).rstrip("\n"))
