"""Run directory: atomic writes, unique claims under races, run.json life cycle, status, listing."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from mlrun.runs import directory as runs
from mlrun.runs.directory import RunDir
from mlrun.runs.discovery import display_status, run_dir_paths
from mlrun.runs.files import _FILE_MODE, atomic_write, load_npz, read_json, write_csv, write_json, write_npz, write_yaml
from mlrun.runs.history import history_header, read_history, write_history
from mlrun.spec.names import sanitize_name

NAME_RE = re.compile(r"^(?P<prefix>[A-Za-z0-9_-]+)-(?P<stamp>\d{8}-\d{6})-(?P<hex>[0-9a-f]{4})$")


def _temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("digits-elu", "digits-elu"),
        ("a b/c", "a-b-c"),
        ("x__y", "x__y"),
        ("élan vital!", "lan-vital"),
        ("--a..b--", "a-b"),
        ("", "run"),
        ("///", "run"),
    ],
)
def test_sanitize_name(raw, clean):
    assert sanitize_name(raw) == clean


# ---------------------------------------------------------------- atomic writes


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write(target, "first")
    atomic_write(target, b"second")
    assert target.read_bytes() == b"second"
    assert _temp_files(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_atomic_write_failure_keeps_previous_content(tmp_path, monkeypatch):
    target = tmp_path / "run.json"
    write_json(target, {"status": "running"})

    class HalfWriter:
        """A file object that writes half of the bytes and then fails (a full disk, a signal)."""

        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            self.fh.write(data[: len(data) // 2])
            self.fh.flush()
            raise OSError(28, "No space left on device")

    real_fdopen = os.fdopen
    monkeypatch.setattr(runs.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="No space"):
        write_json(target, {"status": "completed", "padding": "x" * 1000})
    monkeypatch.undo()
    assert read_json(target) == {"status": "running"}
    assert _temp_files(tmp_path) == []


def test_atomic_write_failure_at_rename_removes_temp(tmp_path, monkeypatch):
    target = tmp_path / "m.json"
    write_json(target, [1])

    def boom(src, dst):
        raise PermissionError("rename refused")

    monkeypatch.setattr(runs.os, "replace", boom)
    with pytest.raises(PermissionError):
        write_json(target, [2])
    monkeypatch.undo()
    assert read_json(target) == [1]
    assert _temp_files(tmp_path) == []


def test_written_files_get_normal_permissions(tmp_path):
    path = write_json(tmp_path / "x.json", {})
    # mkstemp makes 0600; results must be readable by the group/others as the umask allows.
    assert path.stat().st_mode & 0o777 == _FILE_MODE


def test_json_format_and_nan_refused(tmp_path):
    path = write_json(tmp_path / "m.json", {"b": 1, "a": np.float32(0.5), "c": [np.int64(3)], "d": None})
    text = path.read_text()
    assert text.endswith("}\n")
    assert text.index('"b"') < text.index('"a"')  # insertion order kept
    assert '  "b": 1' in text  # indent 2
    assert json.loads(text) == {"b": 1, "a": 0.5, "c": [3], "d": None}
    for bad in (float("nan"), float("inf"), np.float32("nan"), np.float64("-inf")):
        with pytest.raises(ValueError):
            write_json(tmp_path / "bad.json", {"loss": bad})
    assert not (tmp_path / "bad.json").exists()
    assert _temp_files(tmp_path) == []


def test_yaml_keeps_order(tmp_path):
    obj = {"name": "q", "seed": 0, "data": {"dataset": "iris", "test_size": 0.2}, "auto": "auto"}
    path = write_yaml(tmp_path / "config.yaml", obj)
    assert path.read_text().splitlines()[0] == "name: q"
    assert yaml.safe_load(path.read_text()) == obj
    assert list(yaml.safe_load(path.read_text())) == ["name", "seed", "data", "auto"]


def test_csv_none_is_empty_cell(tmp_path):
    path = write_csv(tmp_path / "p.csv", ["a", "b"], [[1, None], [2.5, "x"]])
    assert path.read_text() == "a,b\n1,\n2.5,x\n"


def test_npz_round_trip_without_pickle(tmp_path):
    W = np.arange(6, dtype=np.float32).reshape(2, 3)
    spec = np.array(json.dumps([{"name": "dense", "units": 3}]))
    labels = np.array(["cat", "dog"])
    path = write_npz(tmp_path / "model.npz", W=W, spec=spec, labels=labels, step=np.int64(7))
    out = load_npz(path)
    assert set(out) == {"W", "spec", "labels", "step"}
    assert out["W"].dtype == np.float32 and np.array_equal(out["W"], W)
    assert json.loads(str(out["spec"])) == [{"name": "dense", "units": 3}]
    assert out["labels"].tolist() == ["cat", "dog"]
    assert int(out["step"]) == 7
    # np.load itself must accept it without pickle
    with np.load(path, allow_pickle=False) as z:
        assert z["W"][1, 2] == 5.0


def test_npz_refuses_object_arrays(tmp_path):
    with pytest.raises(TypeError, match="object"):
        write_npz(tmp_path / "bad.npz", x=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(TypeError, match="object"):
        write_npz(tmp_path / "bad.npz", ragged=np.array([[1, 2], [3]], dtype=object))
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- claiming run directories


def test_create_name_pattern(tmp_path):
    run = RunDir.create(tmp_path / "deep" / "runs", "digits elu!")
    m = NAME_RE.match(run.name)
    assert m and m["prefix"] == "digits-elu"
    assert run.path.parent == tmp_path / "deep" / "runs"
    assert run.path.is_dir() and list(run.path.iterdir()) == []
    assert abs(time.mktime(time.strptime(m["stamp"], "%Y%m%d-%H%M%S")) - time.time()) < 120
    assert RunDir(run.path).name == run.name


def test_open_missing_run_dir(tmp_path):
    with pytest.raises(FileNotFoundError):
        RunDir(tmp_path / "nope")


def test_create_never_reuses(tmp_path, monkeypatch):
    hexes = iter(["abcd", "abcd", "abcd", "beef"])
    monkeypatch.setattr(runs.time, "strftime", lambda fmt: "20240101-000000")
    monkeypatch.setattr(runs.secrets, "token_hex", lambda n: next(hexes))
    first = RunDir.create(tmp_path, "x")
    second = RunDir.create(tmp_path, "x")
    assert (first.name, second.name) == ("x-20240101-000000-abcd", "x-20240101-000000-beef")


def test_create_50_threads(tmp_path, monkeypatch):
    # a tiny hex space forces collisions, so the retry path is exercised for real
    rng = np.random.default_rng(0)
    monkeypatch.setattr(runs.secrets, "token_hex", lambda n: f"{int(rng.integers(0, 80)):04x}")
    barrier = threading.Barrier(50)
    paths, errors = [], []

    def claim():
        try:
            barrier.wait()
            paths.append(RunDir.create(tmp_path, "same").path)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=claim) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(paths) == 50 and len(set(paths)) == 50
    assert len(list(tmp_path.iterdir())) == 50
    assert all(NAME_RE.match(p.name) for p in paths)


def _claim_in_process(runs_dir: str, start_at: float, n: int) -> list[str]:
    import time as _time

    import numpy as _np

    from mlrun.runs import directory as _runs

    rng = _np.random.default_rng()
    _runs.secrets.token_hex = lambda nbytes: f"{int(rng.integers(0, 24)):04x}"
    _time.sleep(max(0.0, start_at - _time.time()))
    return [str(_runs.RunDir.create(runs_dir, "same").path) for _ in range(n)]


def test_create_8_processes(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 2.0
    with ctx.Pool(8) as pool:
        results = pool.starmap(_claim_in_process, [(str(tmp_path), start_at, 2)] * 8)
    paths = [p for chunk in results for p in chunk]
    assert len(paths) == 16 and len(set(paths)) == 16
    assert len(list(tmp_path.iterdir())) == 16


# ---------------------------------------------------------------- run.json life cycle


def test_run_json_life_cycle(tmp_path):
    run = RunDir.create(tmp_path, "life")
    params = {"optimizer.name": "adam", "optimizer.learning_rate": 0.001}
    run.start("train", params, {"total_steps": 100}, seed=3, smoke=True, command=["mlrun", "train", "x.yaml"])
    info = run.read_json("run.json")
    assert info["status"] == "running" and info["kind"] == "train"
    assert info["pid"] == os.getpid() and info["host"] == socket.gethostname()
    assert info["params"] == params and info["resolved"] == {"total_steps": 100}
    assert info["seed"] == 3 and info["smoke"] is True
    assert info["started"].endswith("+00:00")
    assert set(info["versions"]) == {"python", "numpy", "scikit-learn", "mlrun"}
    assert info["versions"]["numpy"] == np.__version__
    import sklearn

    assert info["versions"]["scikit-learn"] == sklearn.__version__
    assert isinstance(info["blas"], list)
    assert all(set(lib) == {"internal_api", "num_threads", "version", "filepath"} for lib in info["blas"])
    assert all("/" not in lib["filepath"] for lib in info["blas"])
    assert display_status(info) == "running"

    before = info["heartbeat"]
    time.sleep(0.01)
    run.heartbeat(epochs=4)
    info = run.read_json("run.json")
    assert info["epochs"] == 4 and info["heartbeat"] > before and info["status"] == "running"

    run.finish("completed", "max_epochs", 5, timings={"train_seconds": 1.5, "total_seconds": 2.0})
    info = run.read_json("run.json")
    assert info["status"] == "completed" and info["stop_reason"] == "max_epochs" and info["epochs"] == 5
    assert info["timings"] == {"train_seconds": 1.5, "total_seconds": 2.0}
    assert info["finished"] and info["error"] is None
    assert info["params"] == params  # untouched by the updates
    assert _temp_files(run.path) == []


def test_finish_failed_records_error_and_computes_total(tmp_path):
    run = RunDir.create(tmp_path, "f")
    run.start("lr_find", {}, {}, seed=0, smoke=False, command="mlrun lr-find x.yaml", extra={"note": 1})
    info = run.finish("failed", None, 0, error=ValueError("bad shape"))
    assert info["error"] == "ValueError: bad shape"
    assert info["note"] == 1 and info["kind"] == "lr_find"
    assert info["timings"]["train_seconds"] is None and 0 <= info["timings"]["total_seconds"] < 60
    with pytest.raises(ValueError, match="status"):
        run.finish("done", None, 0)


def test_rundir_files_and_plots_dir(tmp_path):
    run = RunDir.create(tmp_path, "f")
    assert not (run.path / "plots").exists()
    assert run.plots_dir == run.path / "plots" and run.plots_dir.is_dir()
    run.write_json("metrics.json", {"test": {"accuracy": 0.5}})
    run.write_npz("sub/model.npz", W=np.ones(2))
    assert run.read_json("metrics.json")["test"]["accuracy"] == 0.5
    assert run.file("sub/model.npz").is_file()


# ---------------------------------------------------------------- display_status


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _running(**over) -> dict:
    base = {"status": "running", "pid": os.getpid(), "host": socket.gethostname(), "heartbeat": time.time()}
    return {**base, **over}


def test_display_status():
    now = time.time()
    assert display_status(_running()) == "running"
    assert display_status(_running(pid=_dead_pid())) == "stale"
    # another host: its pids mean nothing here, only the heartbeat counts
    assert display_status(_running(pid=_dead_pid(), host="elsewhere-" + socket.gethostname())) == "running"
    assert display_status(_running(heartbeat=now - 3601), now=now) == "stale"
    assert display_status(_running(heartbeat=now - 3599), now=now) == "running"
    assert display_status(_running(heartbeat=now - 100), now=now, stale_after=60) == "stale"
    assert display_status(_running(host="x", heartbeat=now - 7200), now=now) == "stale"
    for status in ("completed", "diverged", "failed", "interrupted"):
        assert display_status({**_running(pid=_dead_pid(), heartbeat=0.0), "status": status}) == status


def test_display_status_pid_of_another_user():
    # pid 1 exists but is not ours: os.kill raises PermissionError (or succeeds as root) -> alive
    assert display_status(_running(pid=1)) == "running"


# ---------------------------------------------------------------- run_dir_paths


def find_runs(paths) -> list[Path]:
    return sorted(Path(p) for p in run_dir_paths(paths))


def _make_run(path: Path, kind="train") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    write_json(path / "run.json", {"kind": kind, "status": "completed"})
    return path


def test_find_runs_nested(tmp_path):
    root = tmp_path / "runs"
    a = _make_run(root / "a")
    b = _make_run(root / "sweep" / "b")
    d = _make_run(root / "sweep" / "c" / "d", kind="lr_find")
    (root / "sweep" / "c" / "notes.txt").write_text("x")
    _make_run(a / "plots" / "fake")  # never inside a run's plots/ (nor its other folders)
    _make_run(a / "nested")
    _make_run(root / ".trash" / "old")  # hidden folders are skipped
    (root / "empty").mkdir()
    other = _make_run(tmp_path / "elsewhere" / "e")

    assert find_runs([root]) == [a, b, d]
    assert find_runs(root) == [a, b, d]
    assert run_dir_paths([root]) == [str(a), str(b), str(d)]  # depth-first, in name order
    assert find_runs([root / "sweep", root, tmp_path / "elsewhere"]) == [other, a, b, d]  # no duplicates
    assert find_runs([a]) == [a]  # a run directory itself
    assert find_runs([a / "run.json"]) == [a]
    assert find_runs([root / "empty"]) == []
    with pytest.raises(FileNotFoundError):
        find_runs([root, tmp_path / "missing"])


def test_find_runs_symlink_loop(tmp_path):
    root = tmp_path / "runs"
    a = _make_run(root / "a")
    os.symlink(root, root / "loop")
    os.symlink(tmp_path / "other", root / "other-link")
    _make_run(tmp_path / "other" / "b")
    assert find_runs([root]) == [a, root / "other-link" / "b"]  # the loop is cut, other links followed


def test_find_runs_many(tmp_path):
    root = tmp_path / "runs"
    made = [_make_run(root / f"r{i:04d}") for i in range(300)]
    for p in made[:50]:
        (p / "plots").mkdir()
    assert find_runs([root]) == made


# ---------------------------------------------------------------- history.csv


def test_history_header():
    assert history_header(["accuracy", "val_f1"]) == [
        "epoch", "learning_rate", "momentum", "train_loss", "val_loss", "grad_norm",
        "val_accuracy", "val_f1", "seconds",
    ]  # fmt: skip
    assert history_header([]) == [
        "epoch", "learning_rate", "momentum", "train_loss", "val_loss", "grad_norm", "seconds",
    ]  # fmt: skip


def test_history_round_trip(tmp_path):
    history = [
        {"epoch": 1, "learning_rate": 0.01, "momentum": 0.9, "train_loss": 1.25, "val_loss": 1.5,
         "grad_norm": np.float32(0.5), "val_accuracy": 0.625, "seconds": 0.125},
        {"epoch": 2, "learning_rate": 0.005, "momentum": None, "train_loss": 0.75, "val_loss": None,
         "grad_norm": 0.25, "val_accuracy": None, "seconds": 0.1},
    ]  # fmt: skip
    path = write_history(tmp_path / "history.csv", history, ["accuracy"])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,learning_rate,momentum,train_loss,val_loss,grad_norm,val_accuracy,seconds"
    assert lines[2] == "2,0.005,,0.75,,0.25,,0.1"
    back = read_history(path)
    assert back[0] == {**history[0], "grad_norm": 0.5}
    assert back[1] == history[1]
    assert isinstance(back[0]["epoch"], int) and isinstance(back[0]["train_loss"], float)


def test_history_via_rundir_with_explicit_metrics(tmp_path):
    run = RunDir.create(tmp_path, "h")
    write_history(run.file("history.csv"), [{"epoch": 1, "train_loss": 2.0}], metric_names=["r2"])
    assert read_history(run.file("history.csv")) == [
        {"epoch": 1, "learning_rate": None, "momentum": None, "train_loss": 2.0, "val_loss": None,
         "grad_norm": None, "val_r2": None, "seconds": None},
    ]  # fmt: skip


@pytest.mark.parametrize("spec", ["configs/default_dnn.yaml", "configs/examples/mackey_glass_mtp.yaml",
                                  "configs/examples/imbalanced_pr_auc.yaml", "configs/studies/bitwise.yaml",
                                  "odd values"])
def test_config_yaml_from_libyaml_is_the_pure_python_emitters_text(spec):
    from mlrun.runs.files import yaml_text
    from mlrun.spec.loading import load_config

    if spec == "odd values":  # what a spec's strings and numbers can hold
        obj = {"name": "é ü 日本", "path": "a: b # c", "empty": "", "multi": "one\ntwo", "tiny": 1e-12,
               "big": 1.5e300, "neg": -0.0, "none": None, "yes": "yes", "long": "word " * 40,
               "nested": [[1, 2], {"k": [True, False]}], "int": 12345678901234567890}
    else:
        obj = load_config(Path(__file__).parents[1] / spec).to_dict()
    assert hasattr(yaml, "CSafeDumper")  # the venv's PyYAML is built with libyaml
    assert yaml_text(obj, yaml.CSafeDumper) == yaml_text(obj, yaml.SafeDumper)
    assert yaml.safe_load(yaml_text(obj)) == obj


def test_versions_and_blas_are_cached_per_process_but_blas_threads_are_current():
    from threadpoolctl import threadpool_limits

    first = runs.versions()
    first["numpy"] = "edited"  # a caller's copy
    assert runs.versions()["numpy"] == np.__version__
    assert runs._versions.cache_info().hits >= 1
    before = runs.blas_info()
    with threadpool_limits(limits=1):
        assert {lib["num_threads"] for lib in runs.blas_info()} == {1}
    assert runs.blas_info() == before
