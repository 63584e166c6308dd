"""Start-up: a command imports what it needs and nothing heavier (each case in a fresh interpreter)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("matplotlib", "scipy.stats", "scipy.special", "pydantic", "sklearn", "pandas", "pyarrow")

PROBE = """
import json, sys
{body}
print(json.dumps([m for m in {heavy!r} if m in sys.modules]), file=sys.__stderr__)
"""
CLI = """
sys.argv = ["mlrun", *{args!r}]
from mlrun.cli import main
try:
    main()
except SystemExit:
    pass
"""
NETWORK = """
import numpy as np
from mlrun.nn.network import Network
net = Network([{"name": "dense", "units": 8, "activation": "sigmoid"}, {"name": "dense", "units": 2}], 4)
net.forward(np.ones((3, 4), np.float32))
"""


def _imported(body: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    code = PROBE.format(body=body, heavy=heavy)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("case, allowed", [
    (CLI.format(args=["--help"]), set()),
    (CLI.format(args=["validate", "configs/quickstart.yaml"]), {"pydantic"}),  # the spec's validation
    (CLI.format(args=["registry", "activation"]), set()),  # the registry's table needs no spec models
    (NETWORK, set()),
])
def test_a_command_imports_nothing_heavy_it_does_not_need(case, allowed):
    assert set(_imported(case)) == allowed


def test_a_smoke_run_draws_nothing_so_imports_no_matplotlib(tmp_path):
    # a smoke run skips the figures, so it must not pay matplotlib's import (~0.5 s) either
    imported = set(_imported(CLI.format(args=["train", "--smoke", "-q", "configs/quickstart.yaml",
                                              "--runs-dir", str(tmp_path)]), heavy=(*HEAVY, "PIL")))
    assert len(list(tmp_path.glob("quickstart-*/metrics.json"))) == 1  # the run itself went through
    assert {"pydantic", "sklearn"} <= imported and not {"matplotlib", "PIL"} & imported


def test_validate_loads_no_training_machinery():
    # the baselines check lives in experiment.preflight, so validate never imports the trainer and its kin
    machinery = ("mlrun.experiment.outcome", "mlrun.training.trainer", "mlrun.training.setup", "mlrun.metrics.scores")
    assert _imported(CLI.format(args=["validate", "configs/quickstart.yaml"]), heavy=machinery) == []
