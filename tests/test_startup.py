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


def _imported(body: str) -> list[str]:
    code = PROBE.format(body=body, heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("case, allowed", [
    (CLI.format(args=["--help"]), set()),
    (CLI.format(args=["validate", "configs/quickstart.yaml"]), {"pydantic"}),  # the spec's validation
    (NETWORK, set()),
])
def test_a_command_imports_nothing_heavy_it_does_not_need(case, allowed):
    assert set(_imported(case)) == allowed
