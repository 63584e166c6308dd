"""`mlrun smoke`: many specs in one process, one line each, a summary, exit codes, JUnit XML read by junitparser."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlrun.cli.app import cli

junitparser = pytest.importorskip("junitparser")

ROOT = Path(__file__).resolve().parents[1]
GOOD = {"name": "good", "seed": 1, "data": {"dataset": "iris"},
        "model": {"hidden_layers": 1, "neurons": 4, "activation": "tanh"},
        "optimizer": {"name": "adam", "learning_rate": 0.01}, "training": {"epochs": 3, "batch_size": 32}}
DIVERGES = {**GOOD, "name": "diverges", "optimizer": {"name": "sgd", "learning_rate": 1e4},
            "model": {"hidden_layers": 2, "neurons": 32, "activation": "relu"}}


@pytest.fixture
def specs(tmp_path):
    folder = tmp_path / "specs"
    (folder / "nested").mkdir(parents=True)
    (folder / "a_good.yaml").write_text(json.dumps(GOOD))
    (folder / "nested" / "b_good.yml").write_text(json.dumps({**GOOD, "seed": 2}))
    (folder / "c_typo.yaml").write_text(json.dumps({**GOOD, "optimizer": {"name": "adma"}}))
    (folder / "notes.txt").write_text("not a spec")
    return folder


def test_smoke_reports_each_spec_and_writes_junit_xml_that_junitparser_reads(specs, tmp_path):
    diverges = tmp_path / "diverges.yaml"
    diverges.write_text(json.dumps(DIVERGES))
    report = tmp_path / "smoke.xml"
    result = CliRunner().invoke(cli, ["smoke", str(specs), str(diverges), "--junit-xml", str(report)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    verdicts = [line.split()[0] for line in lines[:4]]
    assert verdicts == ["ok", "invalid", "ok", "failed"], result.output
    assert "unknown optimizer 'adma'" in lines[1]
    assert "4 specs: 2 ok, 1 invalid, 1 failed" in result.output

    xml = junitparser.JUnitXml.fromfile(str(report))
    suite = next(iter(xml))
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (4, 1, 1, 0)
    cases = {Path(case.name).name: case for case in suite}
    assert set(cases) == {"a_good.yaml", "b_good.yml", "c_typo.yaml", "diverges.yaml"}
    assert cases["a_good.yaml"].is_passed and cases["b_good.yml"].is_passed
    [error] = cases["c_typo.yaml"].result
    assert isinstance(error, junitparser.Error) and "adma" in error.message
    [failure] = cases["diverges.yaml"].result
    assert isinstance(failure, junitparser.Failure) and "diverged" in failure.message
    assert all(case.time >= 0 for case in suite)


def test_smoke_exits_0_when_all_pass_and_2_for_a_missing_path(specs, tmp_path):
    (specs / "c_typo.yaml").unlink()
    ok = CliRunner().invoke(cli, ["smoke", str(specs), "--jobs", "2"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[-1] == "2 specs: 2 ok, 0 invalid, 0 failed"
    missing = CliRunner().invoke(cli, ["smoke", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2
    assert missing.output.strip() == f"error: no such spec or folder: {tmp_path / 'nope.yaml'}"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
def test_the_pre_commit_hook_runs_mlrun_validate_through_real_pre_commit(tmp_path):
    pre_commit = Path(sys.executable).parent / "pre-commit"
    if not pre_commit.exists():
        pytest.skip("pre-commit is not installed (pip install -e '.[dev]')")
    hooks = ROOT / ".pre-commit-hooks.yaml"
    import yaml

    [hook] = yaml.safe_load(hooks.read_text())
    assert hook["id"] == "mlrun-validate" and hook["language"] == "system"
    repo = tmp_path / "user"
    repo.mkdir()
    env = _git_env(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True, env=env)
    (repo / "good.yaml").write_text(json.dumps(GOOD))
    (repo / "bad.yaml").write_text(json.dumps({**GOOD, "optimizer": {"name": "adma"}}))
    subprocess.run(["git", "add", "."], cwd=repo, check=True, env=env)
    done = subprocess.run([str(pre_commit), "try-repo", str(ROOT), "mlrun-validate", "--all-files"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "mlrun validate" in done.stdout and "Failed" in done.stdout
    assert "unknown optimizer 'adma'" in done.stdout
    (repo / "bad.yaml").unlink()
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    done = subprocess.run([str(pre_commit), "try-repo", str(ROOT), "mlrun-validate", "--all-files"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "Passed" in done.stdout, done.stdout + done.stderr


def _git_env(home):
    import os

    bin_dir = Path(sys.executable).parent
    return {**os.environ, "HOME": str(home), "PRE_COMMIT_HOME": str(home / ".pre-commit"),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONPATH": str(ROOT),
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t"}


@pytest.mark.parametrize("shell, marker", [("bash", "_mlrun_completion()"), ("zsh", "#compdef mlrun"),
                                           ("fish", "function _mlrun_completion")])
def test_the_documented_shell_completion_scripts_come_from_click(shell, marker):
    result = CliRunner().invoke(cli, [], prog_name="mlrun", env={"_MLRUN_COMPLETE": f"{shell}_source"})
    assert result.exit_code == 0 and marker in result.output
    assert f"_MLRUN_COMPLETE={shell}_source mlrun" in (ROOT / "docs" / "ecosystem.md").read_text()
