"""Hostile input at the command line: markup in data, OS errors, odd files, deep JSON, loops.

Each case ends in exit 0 with the data shown as it is, or one line and exit 2 (bad input) / 1 (a failed
run), never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mlrun.cli.app import cli
from tests.test_compare import classification, make_run

TINY = """
name: tiny
seed: 1
data: {dataset: iris}
model: {hidden_layers: 1, neurons: 8, activation: tanh}
optimizer: {name: adam, learning_rate: 0.01}
training: {epochs: 2, batch_size: 16}
"""


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def one_error_line(result, code=2) -> str:
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


# -- item 2: everything from files or users is text, never markup ------------------------------------------
@pytest.mark.parametrize("status", ["paused", None, ["a", "list"], "[/bold]", "1 completed, 1 diverged"])
def test_compare_shows_any_status_word_as_text(status, tmp_path):
    make_run(tmp_path / "exp[v2]", "a", {"model.activation": "[/red] [bold]x"}, classification(0.9),
             status=status)
    make_run(tmp_path / "exp[v2]", "b", {"model.activation": "elu"}, classification(0.8))
    result = invoke("compare", tmp_path / "exp[v2]")
    assert result.exit_code == 0, result.output
    assert "[/red] [bold]x" in result.output
    if isinstance(status, str):
        assert status in result.output


def test_compare_group_with_a_diverged_seed_shows_the_status_count(tmp_path):
    for seed, status in ((0, "completed"), (1, "diverged")):
        make_run(tmp_path, f"r{seed}", {"seed": seed, "optimizer.learning_rate": "[/]"}, classification(0.9),
                 status=status, seed=seed)
    make_run(tmp_path, "other", {"optimizer.learning_rate": "[/b]"}, classification(0.7))
    result = invoke("compare", tmp_path, "--group")
    assert result.exit_code == 0, result.output
    assert "1 completed, 1 diverged" in result.output and "[/]" in result.output and "[/b]" in result.output


def test_train_prints_a_runs_dir_with_brackets_as_it_is(tiny, tmp_path):
    runs = tmp_path / "exp[v2]"
    result = invoke("train", tiny, "-q", "--runs-dir", runs)
    assert result.exit_code == 0, result.output
    (run,) = runs.iterdir()
    assert f"run directory: {run}" in result.output


# -- item 5: operating-system errors are one line, checked before the work where they can be -------------
def test_runs_dir_under_a_file_is_one_line_before_any_work(tiny, tmp_path):
    (tmp_path / "file").write_text("x")
    line = one_error_line(invoke("train", tiny, "--runs-dir", tmp_path / "file" / "runs"))
    assert "--runs-dir" in line


def test_runs_dir_that_is_a_file_is_one_line(tiny, tmp_path):
    (tmp_path / "file").write_text("x")
    assert "is a file" in one_error_line(invoke("train", tiny, "--runs-dir", tmp_path / "file"))


def test_a_name_too_long_for_a_folder_is_one_line(tiny, tmp_path):
    line = one_error_line(invoke("train", tiny, "--name", "n" * 300, "--runs-dir", tmp_path / "runs"))
    assert "too long" in line and not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_runs_dir_is_one_line(tiny, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert "not writable" in one_error_line(invoke("train", tiny, "--runs-dir", ro))
    finally:
        ro.chmod(0o755)


@pytest.mark.parametrize("command", [
    ["compare", "{runs}", "--plot", "{missing}/curves.png"],
    ["lr-find", "{spec}", "--steps", "20", "--write-spec", "{missing}/spec.yaml"],
    ["predict", "{run}", "{csv}", "-o", "{missing}/pred.csv"],
])
def test_output_paths_are_checked_before_the_work(command, tiny, tmp_path):
    runs = tmp_path / "runs"
    assert invoke("train", tiny, "-q", "--runs-dir", runs).exit_code == 0
    (run,) = runs.iterdir()
    csv = tmp_path / "x.csv"
    csv.write_text("sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)\n1,2,3,4\n")
    fill = {"runs": runs, "spec": tiny, "missing": tmp_path / "missing", "run": run, "csv": csv}
    before = sorted(p.name for p in runs.iterdir())
    line = one_error_line(invoke(*[c.format(**fill) for c in command]))
    assert "does not exist" in line
    assert sorted(p.name for p in runs.iterdir()) == before  # lr-find did not run its test first


def test_a_full_disk_fails_the_run_in_one_line_and_its_status_says_so(tiny, tmp_path):
    """RLIMIT_FSIZE makes every write past 16 KiB fail (EFBIG), as a full disk would (ENOSPC)."""
    import resource
    import signal
    import subprocess
    import sys

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 10, 16 << 10))

    big = tmp_path / "big.yaml"
    big.write_text(TINY.replace("neurons: 8", "neurons: 256"))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run([sys.executable, "-m", "mlrun", "train", str(big), "-q", "--runs-dir",
                           str(tmp_path / "runs")], env=env, capture_output=True, text=True, timeout=120,
                          preexec_fn=small_files)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("error: the run failed: File too large")
    (run,) = (tmp_path / "runs").iterdir()
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "failed" and "File too large" in info["error"]
    assert not [f for f in run.iterdir() if f.name.startswith(".")]  # no half-written temporary files


# -- item 3 / 11: odd files named run.json or model.npz; deep JSON; a symlink loop; usage errors ---------
def _trained(tiny, tmp_path) -> Path:
    runs = tmp_path / "runs"
    assert invoke("train", tiny, "-q", "--runs-dir", runs).exit_code == 0
    (run,) = runs.iterdir()
    return run


@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "deep"])
def test_a_run_json_that_is_no_file_is_unreadable_not_a_hang(kind, tiny, tmp_path):
    run = _trained(tiny, tmp_path)
    (run / "run.json").unlink()
    if kind == "fifo":
        os.mkfifo(run / "run.json")
    elif kind == "dev_zero":
        (run / "run.json").symlink_to("/dev/zero")
    else:
        (run / "run.json").write_text("[" * 200_000 + "]" * 200_000)
    result = CliRunner().invoke(cli, ["compare", str(tmp_path / "runs")])
    assert result.exit_code == 0 and "unreadable" in result.output, result.output
    one_error_line(invoke("train", "--resume", run))
    one_error_line(invoke("predict", run, tiny))


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04 truncated", b"\x93NUMPY pickles"])
def test_a_model_npz_that_is_not_an_npz_is_one_line(content, tiny, tmp_path):
    run = _trained(tiny, tmp_path)
    (run / "model.npz").write_bytes(content)
    line = one_error_line(invoke("predict", run, tiny))
    assert "pickled" not in line and "model.npz" in line


def test_a_symlink_to_an_ancestor_lists_each_run_once(tmp_path):
    make_run(tmp_path / "a", "r1", {}, classification(0.9))
    make_run(tmp_path / "a", "r2", {"seed": 1}, classification(0.8), seed=1)
    (tmp_path / "a" / "r1" / "up").symlink_to(tmp_path / "a")  # inside a run: never walked
    (tmp_path / "a" / "zz-loop").symlink_to(tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "back").symlink_to(tmp_path)
    from mlrun.runs.discovery import run_dir_paths

    assert sorted(os.path.basename(p) for p in run_dir_paths([str(tmp_path)])) == ["r1", "r2"]
    result = invoke("compare", tmp_path, "--group", "--format", "json")
    assert [row["n"] for row in json.loads(result.output)] == [2]


@pytest.mark.parametrize("args", [["train", "--bogus"], ["compare", "--top", "0"], ["nope"], ["train", "--seed"]])
def test_usage_errors_are_one_line(args):
    line = one_error_line(CliRunner().invoke(cli, args))
    assert "--help" in line


# -- item 6: --resume says what is wrong in one line and leaves the run's status as it was ----------------
def _interrupted(tiny, tmp_path) -> Path:
    run = _trained(tiny, tmp_path)
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": "interrupted", "stop_reason": "interrupted"}))
    return run


@pytest.mark.parametrize("damage", ["truncate_npz", "garble_npz", "garble_json", "empty_json"])
def test_a_damaged_checkpoint_is_one_line_and_the_status_stays(damage, tiny, tmp_path):
    run = _interrupted(tiny, tmp_path)
    npz = run / "checkpoint.npz"  # one file: the arrays, and the trainer's JSON state under "meta"
    if damage == "truncate_npz":
        npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])
    elif damage == "garble_npz":
        npz.write_bytes(b"PK\x03\x04" + os.urandom(300))
    else:
        with np.load(npz, allow_pickle=False) as stored:
            arrays = {k: stored[k] for k in stored.files}
        arrays["meta"] = np.array('{"epoch": 2, "opt' if damage == "garble_json" else "{}")
        np.savez(npz, **arrays)
    line = one_error_line(invoke("train", "--resume", run))
    assert "checkpoint" in line
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"


@pytest.mark.parametrize("damage", ["delete", "garble"])
def test_a_damaged_history_is_named_as_such_and_the_status_stays(damage, tiny, tmp_path):
    run = _interrupted(tiny, tmp_path)
    history = run / "history.csv"
    if damage == "delete":
        history.unlink()
    else:
        history.write_text("epoch,train_loss\nnot,a,number,row\n")
    line = one_error_line(invoke("train", "--resume", run))
    assert "history.csv" in line and "checkpoint is damaged" not in line
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"


def test_resume_removes_the_temp_files_a_kill_mid_write_left(tiny, tmp_path):
    run = _interrupted(tiny, tmp_path)
    left = run / ".model.npz.abc123.tmp"  # what atomic_write leaves when killed before its rename
    left.write_bytes(b"partial")
    assert invoke("train", "--resume", run).exit_code == 0
    assert not left.exists()


def test_a_resume_without_its_checkpoint_says_it_started_again_and_repeats_the_numbers(tiny, tmp_path):
    run = _interrupted(tiny, tmp_path)
    before = json.loads((run / "metrics.json").read_text())
    (run / "checkpoint.npz").unlink()
    result = invoke("train", "--resume", run)
    assert result.exit_code == 0, result.output
    note = ("resume: no checkpoint.npz on disk though history.csv records 2 epochs: training started again "
            "from epoch 0 (the same seed, so the same numbers)")
    assert json.loads((run / "run.json").read_text())["warnings"][0] == note
    assert "training started again from epoch 0" in " ".join(result.output.split())
    assert json.loads((run / "metrics.json").read_text()) == before


@pytest.mark.parametrize("edit", [("learning_rate: 0.01", "learning_rate: 0.5"), ("neurons: 8", "neurons: 9")])
def test_a_config_yaml_edited_after_the_run_is_refused(edit, tiny, tmp_path):
    run = _interrupted(tiny, tmp_path)
    import yaml

    text = yaml.safe_dump(yaml.safe_load((run / "config.yaml").read_text()))
    key, value = edit[1].split(": ")
    spec = yaml.safe_load(text)
    section = "optimizer" if key == "learning_rate" else "model"
    spec[section][key] = yaml.safe_load(value)
    (run / "config.yaml").write_text(yaml.safe_dump(spec))
    line = one_error_line(invoke("train", "--resume", run))
    assert "changed" in line
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"


# -- item 10: predict says what model it serves ------------------------------------------------------------
@pytest.mark.parametrize("status, code", [("interrupted", 0), ("diverged", 0), ("failed", 2), ("running", 2)])
def test_predict_warns_or_refuses_by_the_runs_status(status, code, tiny, tmp_path):
    run = _trained(tiny, tmp_path)
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": status, "pid": os.getpid()}))
    csv = tmp_path / "x.csv"
    csv.write_text("sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)\n1,2,3,4\n")
    result = CliRunner().invoke(cli, ["predict", str(run), str(csv)])
    assert result.exit_code == code, result.output
    assert status in result.output
    if code == 0:
        assert "warning:" in result.output and "y_pred" in result.output


@pytest.mark.parametrize("dataset, loss", [("diabetes", "cross_entropy"), ("iris", "mse"), ("iris", "cosine")])
def test_a_loss_for_the_other_task_is_a_one_line_spec_error_before_any_run(dataset, loss, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY.replace("{dataset: iris}", f"{{dataset: {dataset}}}") + f"loss: {loss}\n")
    line = one_error_line(invoke("train", spec, "-q", "--runs-dir", tmp_path / "runs"))
    assert f"loss: {loss} is a" in line and "loss: auto" in line
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    assert f"loss: {loss}" in one_error_line(invoke("validate", spec, "--data"))


# -- item 8: sizes are estimated before the work and refused with the figure ----------------------------
@pytest.mark.parametrize("section, needle", [
    ("model: {hidden_layers: 2, neurons: 100000000}", "parameters"),
    ("model: {hidden_layers: 10000000, neurons: 4}", "1e+07 hidden layers"),
    ("data: {dataset: make_classification, params: {n_samples: 1000000000}}", "1e+09 samples x 20 features"),
])
def test_a_run_too_big_for_the_machine_is_refused_with_the_figure(section, needle, tmp_path):
    key = section.split(":")[0]
    lines = [line for line in TINY.splitlines() if not line.startswith(f"{key}:")]
    spec = tmp_path / "big.yaml"
    spec.write_text("\n".join([*lines, section]) + "\n")
    line = one_error_line(invoke("train", spec, "-q", "--runs-dir", tmp_path / "runs"))
    assert needle in line and ("GiB" in line or "at most" in line)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.parametrize("model", [
    {"hidden_layers": 3, "neurons": 7},
    {"hidden_layers": 2, "neurons": 5, "batch_norm": True},
    {"neurons": [9, 4, 6]},
    {"hidden_layers": 0},
    {"layers": [{"name": "dense", "units": 6}, {"name": "dropout", "rate": 0.1}, {"name": "dense", "units": 3}]},
])
def test_the_parameter_estimate_is_the_networks_count(model):
    from specs import model_section

    from mlrun.nn.network import Network, expand_model, output_spec
    from mlrun.training.setup import estimate_params

    section = model_section(**model)
    net = Network(expand_model(section) + [output_spec(3)], 4, "float32", np.random.default_rng(0),
                  np.random.default_rng(1))
    assert estimate_params(model, 4, 3)[1] == net.n_params == estimate_params(section, 4, 3)[1]


@pytest.mark.parametrize("args, needle", [
    (["--seeds", "1000000000", "--dry-run"], "1e+09 trials"),
    (["--grid", "training.epochs=range(1,100000000)", "--dry-run"], "1e+08 values"),
    (["--grid", "training.epochs=range(1,5000)", "--grid", "training.batch_size=range(1,5000)", "--dry-run"],
     "trials"),
])
def test_a_sweep_too_big_is_refused_before_its_trials_are_made(args, needle, tiny):
    assert needle in one_error_line(invoke("sweep", tiny, *args))


@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "huge"])
def test_a_spec_that_is_no_regular_file_or_too_big_is_one_line_not_a_hang(kind, tmp_path):
    spec = tmp_path / "spec.yaml"
    if kind == "fifo":
        os.mkfifo(spec)
    elif kind == "dev_zero":
        spec.symlink_to("/dev/zero")
    else:
        spec.write_text("# padding\n" * 500_000)  # 5 MB: no spec is that long
    for command in (["validate", spec], ["train", spec, "--runs-dir", tmp_path / "runs"],
                    ["sweep", spec, "--dry-run"], ["lr-find", spec]):
        line = one_error_line(invoke(*command))
        assert "regular file" in line or "at most" in line


# -- the acceptance pass's own cases -----------------------------------------------------------------------
@pytest.mark.parametrize("metrics", ["not json", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"])
def test_compare_over_only_runs_with_a_corrupt_metrics_json_shows_them_unreadable(metrics, tmp_path):
    run = make_run(tmp_path, "r1", {}, classification(0.9))
    (run / "metrics.json").write_text(metrics)
    result = CliRunner().invoke(cli, ["compare", str(tmp_path)])
    assert result.exit_code == 0 and "unreadable" in result.output, result.output


INTERRUPTED_IMPORT = """
import sys
class CtrlCWhileLoading:  # the Ctrl-C lands while the CLI's modules load, before any handler exists
    def find_spec(self, name, path=None, target=None):
        if name == "mlrun.cli.app":
            raise KeyboardInterrupt
sys.meta_path.insert(0, CtrlCWhileLoading())
from mlrun.cli import main
main()
"""


def test_ctrl_c_while_the_cli_loads_exits_130_in_one_line():
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", INTERRUPTED_IMPORT], capture_output=True, text=True, timeout=60,
                          cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert (done.returncode, done.stderr.strip()) == (130, "interrupted by SIGINT"), done.stderr


def _laughs(levels: int = 8) -> list[str]:
    """Anchors a..h, each nine aliases of the one before: 9^8 = 43 million ones in 700 bytes."""
    names = "abcdefgh"[:levels]
    return [f"&{k} [{', '.join([f'*{names[i - 1]}'] * 9 if i else ['1'] * 9)}]" for i, k in enumerate(names)]


@pytest.mark.parametrize("text, needle", [
    ("".join(f"{a[1]}: {a}\n" for a in _laughs()), "expands to"),  # unknown keys, but expanded first
    ("sweep: {parameters: {model.neurons: {values: [" + ", ".join(_laughs()) + "]}}}\n", "expands to"),
    ("loss: &a [8, *a]\n", "refers to its own anchor"),
    ("sweep: {parameters: {model.neurons: &a {values: [1, *a]}}}\n", "refers to its own anchor"),
])
def test_yaml_aliases_that_explode_or_loop_are_one_line(text, needle, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY + text)
    assert needle in one_error_line(invoke("validate", spec))
    assert needle in one_error_line(invoke("sweep", spec, "--dry-run"))


def test_a_few_aliases_still_load(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY.replace("neurons: 8", "neurons: &w 8") + "sweep: {parameters: {model.neurons: [*w, 16]}}\n")
    assert invoke("validate", spec).exit_code == 0


def test_resuming_a_run_whose_training_had_ended_draws_its_figures_without_a_warning(tiny, tmp_path):
    run = _trained(tiny, tmp_path)  # as after a kill -9 while the results were written
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": "interrupted"}))
    result = invoke("train", "--resume", run)
    assert result.exit_code == 0 and "warning" not in result.output, result.output
    assert {"diagnostics.png", "learning_curve.png"} <= {p.name for p in (run / "plots").iterdir()}


@pytest.mark.parametrize("override", ["seed=1\n---\n2", "model.neurons=[1,\r\n2", "optimizer.name=a\nb"])
def test_an_override_with_line_breaks_is_still_one_error_line(override, tiny):
    one_error_line(invoke("validate", tiny, "--set", override))


def test_atomic_write_never_replaces_a_device_or_fifo(tmp_path):
    from mlrun.runs.files import atomic_write

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        atomic_write(fifo, "data")
    assert fifo.is_fifo()
    (tmp_path / "link").symlink_to(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        atomic_write(tmp_path / "link", "data")


@pytest.mark.parametrize("option", ["predict -o", "compare --plot", "lr-find --write-spec", "smoke --junit-xml"])
def test_an_output_option_naming_a_fifo_is_refused_before_the_work_and_the_fifo_stays(option, tiny, tmp_path):
    """As root, `-o /dev/full` used to rename the predictions onto the device node itself."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    command, flag = option.split()
    args = {"compare": ["compare", tmp_path], "lr-find": ["lr-find", tiny, "--runs-dir", tmp_path / "r"],
            "smoke": ["smoke", tiny]}.get(command) or ["predict", _trained(tiny, tmp_path), tiny]
    assert "not a regular file" in one_error_line(invoke(*args, flag, fifo))
    assert fifo.is_fifo()


@pytest.mark.skipif(not Path("/dev/full").is_char_device(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("args", [["schema"], ["registry", "optimizer"]])
def test_stdout_on_a_full_device_is_one_line_exit_1(args):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "mlrun", *args], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=60, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert (done.returncode, done.stderr.strip()) == (1, "error: No space left on device"), done.stderr


def test_make_blobs_with_a_billion_centers_is_refused_with_the_figure(tmp_path):
    """The centers are drawn before any sample: 10^9 of them took 12 GB before anything said a word."""
    spec = tmp_path / "blobs.yaml"
    spec.write_text(TINY.replace("{dataset: iris}", "{dataset: make_blobs, params: {centers: 1000000000}}"))
    assert "would take about" in one_error_line(invoke("validate", "--data", spec))


@pytest.mark.parametrize("kind", ["folder", "fifo", "dev_zero"])
def test_a_data_path_that_exists_but_is_no_file_is_not_called_missing(kind, tmp_path):
    data = tmp_path / "d.csv"
    {"folder": data.mkdir, "fifo": lambda: os.mkfifo(data), "dev_zero": lambda: data.symlink_to("/dev/zero")}[kind]()
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY.replace("{dataset: iris}", f"{{dataset: csv, path: {data}, target: y}}"))
    line = one_error_line(invoke("validate", spec))
    assert "not a regular file" in line and "not found" not in line


def test_a_wide_csv_loads_fast_and_its_errors_stay_short(tmp_path):
    """The duplicate-name check was quadratic (100,000 columns: many minutes) and a missing target listed
    every column in its one line."""
    n = 20_000
    data = tmp_path / "wide.csv"
    data.write_text(",".join(f"c{i}" for i in range(n)) + ",y\n" + ",".join("1" for _ in range(n + 1)) + "\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY.replace("{dataset: iris}", f"{{dataset: csv, path: {data}, target: nope}}"))
    line = one_error_line(invoke("validate", "--data", spec))  # before: ~25 s in the duplicate check alone
    assert "and 19,981 more" in line and len(line) < 600


def test_a_baseline_scikit_learn_cannot_fit_is_a_warning_and_the_run_completes(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY + "baselines: [{name: svm, params: {kernel: precomputed}}, logistic_regression]\n")
    result = invoke("train", spec, "-q", "--runs-dir", tmp_path / "runs")
    assert result.exit_code == 0 and "baseline svm was not fitted: Precomputed matrix" in result.output
    (run,) = (tmp_path / "runs").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0 and set(metrics["baselines"]) == {"svm", "logistic_regression"}
    assert json.loads((run / "run.json").read_text())["status"] == "completed"


@pytest.mark.parametrize("dataset, metrics", [("iris", "[rmse]"), ("diabetes", "[accuracy, mae]")])
def test_metrics_of_the_other_task_are_a_one_line_spec_error_before_any_run(dataset, metrics, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY.replace("iris", dataset) + f"metrics: {metrics}\n")
    assert "not a" in one_error_line(invoke("train", spec, "-q", "--runs-dir", tmp_path / "runs"))
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())
