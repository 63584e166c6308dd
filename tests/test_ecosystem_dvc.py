"""examples/dvc/ driven by the real `dvc` in a temporary git repository: repro, metrics show, plots show."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DVC = shutil.which("dvc", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(DVC is None, reason="dvc is not installed (pip install -e '.[dev]')"),
    pytest.mark.skipif(shutil.which("git") is None, reason="dvc needs git"),
]


def _env(home: Path) -> dict:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(ROOT), "DVC_NO_ANALYTICS": "1", "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache")}


def _run(args, cwd, env):
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def test_dvc_repro_metrics_and_plots_on_the_shipped_example(tmp_path):
    repo, env = tmp_path / "repo", _env(tmp_path)
    shutil.copytree(ROOT / "examples" / "dvc", repo)
    spec = yaml.safe_load((repo / "spec.yaml").read_text())
    spec["training"]["epochs"] = 3  # the example as shipped, only shorter
    (repo / "spec.yaml").write_text(yaml.safe_dump(spec))
    _run(["git", "init", "-q"], repo, env)
    _run([DVC, "init", "-q"], repo, env)
    _run([DVC, "repro"], repo, env)

    ours = json.loads((repo / "run" / "metrics.json").read_text())
    assert json.loads((repo / "run" / "run.json").read_text())["epochs"] == 3
    shown = json.loads(_run([DVC, "metrics", "show", "--json"], repo, env))
    theirs = next(iter(shown.values()))["data"]["run/metrics.json"]["data"]
    assert theirs["test"]["accuracy"] == ours["test"]["accuracy"]
    assert theirs["validation"]["log_loss"] == ours["validation"]["log_loss"]
    assert "run/metrics.json" in _run([DVC, "metrics", "show"], repo, env)

    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]["train"]
    assert lock["params"]["spec.yaml"]["optimizer.learning_rate"] == 0.01
    assert [o["path"] for o in lock["outs"]] == ["run"]
    assert "up to date" in _run([DVC, "status"], repo, env)  # the fixed --out path is what DVC hashed

    _run([DVC, "plots", "show", "-o", "html"], repo, env)
    page = (repo / "html" / "index.html").read_text()
    for name in ("learning_curve", "confusion_matrix", "run/plots/learning_curve.png"):
        assert name in page
