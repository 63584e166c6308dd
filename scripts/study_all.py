"""`make studies`: run every study of docs/studies.md and rewrite its section there.

    python scripts/study_all.py [--only NAME ...] [--jobs J] [--table-only] [--list]

Each study (scripts/studies/NAME.py) runs its spec(s) of configs/studies/ as sweeps under
runs/studies/NAME/ (ordinary run directories: `mlrun compare runs/studies/NAME/*/` works on them),
then writes the text between docs/studies.md's `<!-- study:NAME -->` markers, and only that.
`--table-only` rewrites the sections from the existing run directories without training anything.
The studies kept in scripts of their own (study_bitwise.py, study_mtp.py) are run when they exist.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from studies.core import ROOT, Context  # noqa: E402
from studies.markers import replace_section  # noqa: E402

# name -> module under scripts/studies/, in the order `make studies` runs them
STUDIES = ["one_cycle", "rankings", "glorot", "selu", "dead_relu", "baselines", "claims_architecture", "claims_rates",
           "claims_losses", "claims_activations", "claims_optimizers", "claims_init", "claims_pr"]
EXTERNAL = {"bitwise": "scripts/study_bitwise.py", "mtp": "scripts/study_mtp.py"}  # their own scripts
DOCS = ROOT / "docs" / "studies.md"


def run_external(name: str) -> int:
    script = ROOT / EXTERNAL[name]
    if not script.is_file():
        print(f"{name}: {EXTERNAL[name]} is not in this tree; skipped", flush=True)
        return 0
    print(f"{name}: python {EXTERNAL[name]}", flush=True)
    return subprocess.call([sys.executable, str(script)], cwd=ROOT)


def write_section(name: str, body: str, docs: Path) -> None:
    text = replace_section(docs.read_text(encoding="utf-8"), name, body)
    tmp = docs.with_name(f".{docs.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, docs)  # another study's script may rewrite its own section after us: never half a file


def run_study(name: str, args) -> None:
    module = importlib.import_module(f"studies.{name}")
    ctx = Context(name, Path(args.runs_dir) / name, args.jobs)
    if not args.table_only:
        print(f"{name}: about {module.MINUTES} min on 2 free cores", flush=True)
        started = time.time()
        module.run(ctx)
        ctx.record_time(time.time() - started)
        print(f"{name}: {ctx.measured()}", flush=True)
    try:
        body = module.section(ctx)
    except FileNotFoundError as exc:  # --table-only before the study ever ran here
        print(f"{name}: no runs to report ({exc}); its section is left as it is", flush=True)
        return
    write_section(name, body, Path(args.docs))
    print(f"{name}: section written to {args.docs}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these studies")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes per sweep (default 1)")
    parser.add_argument("--table-only", action="store_true", help="rewrite the sections from existing runs")
    parser.add_argument("--runs-dir", default=str(ROOT / "runs" / "studies"))
    parser.add_argument("--docs", default=str(DOCS))
    parser.add_argument("--list", action="store_true", help="list the studies and their expected run time")
    args = parser.parse_args(argv)
    if args.list:
        for name in STUDIES:
            print(f"{name:22} about {importlib.import_module(f'studies.{name}').MINUTES} min")
        for name, script in EXTERNAL.items():
            print(f"{name:22} {script}{'' if (ROOT / script).is_file() else ' (not in this tree)'}")
        return 0
    chosen = args.only or [*STUDIES, *EXTERNAL]
    unknown = [n for n in chosen if n not in STUDIES and n not in EXTERNAL]
    if unknown:
        print(f"unknown study {unknown[0]!r}; known: {', '.join([*STUDIES, *EXTERNAL])}", file=sys.stderr)
        return 2
    failed = 0
    for name in chosen:
        if name in EXTERNAL and args.table_only:
            print(f"{name}: its own script; not run with --table-only", flush=True)
        elif name in EXTERNAL:
            failed += run_external(name) != 0
        else:
            run_study(name, args)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
