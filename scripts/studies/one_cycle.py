"""The 1cycle study (scripts/study_one_cycle.py, configs/studies/one_cycle.yaml) as a section of
docs/studies.md: its table regenerated into the hand-written text of studies/text/one_cycle.md."""

from __future__ import annotations

import json
from pathlib import Path

import study_one_cycle as S

from studies.core import CONFIGS

MINUTES = 5
TEXT = Path(__file__).with_name("text") / "one_cycle.md"


def run(ctx) -> None:
    rows = S.run_study(S.load_study(CONFIGS / "one_cycle.yaml"), ctx.runs_dir)
    ctx.runs_dir.mkdir(parents=True, exist_ok=True)
    (ctx.runs_dir / "results.json").write_text(json.dumps(rows, indent=2) + "\n")


def section(ctx) -> str:
    rows = json.loads((ctx.runs_dir / "results.json").read_text(encoding="utf-8"))
    table = S.markdown(S.load_study(CONFIGS / "one_cycle.yaml"), rows).rstrip("\n")
    return TEXT.read_text(encoding="utf-8").replace("{{table}}", table)
