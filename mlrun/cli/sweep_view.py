"""sweep's terminal output: live progress over trials, the dry-run listing and the final summary."""

from __future__ import annotations

from mlrun.cli.compare_view import print_table
from mlrun.cli.console import styled


class SweepProgress:
    """on_event callback of a sweep: a live bar over trials (done / running / failed, best so far) on a
    terminal, one line per trial elsewhere; a failed trial is reported the moment it happens."""

    def __init__(self, console, quiet: bool = False) -> None:
        self.console, self.quiet = console, quiet
        self.progress = self.task = None
        self.done = self.failed = 0
        # kept as trials arrive (a sweep-wide scan per trial would cost O(trials^2) on a long sweep)
        self.keys, self.metric, self.best = set(), None, None

    def seen(self, result, trial) -> None:
        """Update the metric names, the main metric and the best trial with one finished trial."""
        from mlrun.metrics.names import higher_is_better
        from mlrun.sweeps.records import is_candidate, main_metric

        self.failed += trial.status == "failed"
        self.keys.update(trial.metrics)
        metric = main_metric(self.keys)
        if metric != self.metric:  # rare: the first result, or a sweep over tasks
            self.metric, self.best = metric, result.best()
        elif is_candidate(trial, metric):
            value, best = trial.metrics[metric], self.best and self.best.metrics[metric]
            if best is None or (value > best if higher_is_better(metric) else value < best):
                self.best = trial

    @staticmethod
    def label(trial) -> str:
        return "  ".join([*trial.overrides, f"seed={trial.seed}"])

    def parts(self, result) -> list[str]:
        """Beside the trial count and elapsed time, in order of importance (as many as fit)."""
        from mlrun.cli.console import fmt

        running = min(result.workers, len(result.to_run) - self.done)
        parts = [f"running {running}", f"failed {self.failed}"]
        if self.best is not None:
            parts.append(f"best {self.metric} {fmt(self.best.metrics[self.metric])}")
            parts.append(f"({self.label(self.best)})")
        return parts

    def __call__(self, event, result, trial=None) -> None:
        getattr(self, f"on_{event}")(result, trial)

    def on_start(self, result, trial) -> None:
        from mlrun.cli.console import status_bar
        from mlrun.sweeps.records import main_metric

        self.keys = {k for t in result.trials for k in t.metrics}  # a resumed sweep's kept trials
        self.metric, self.best = main_metric(self.keys), result.best()
        total, todo = len(result.trials), len(result.to_run)
        skipped = f" ({total - todo} already done)" if todo < total else ""
        self.console.print(styled("sweep ", (str(result.name), "bold"),
                                  f": {todo} trials{skipped} on {result.executor} -> {result.path}"))
        if self.console.is_terminal and not self.quiet and todo:
            self.progress, label = status_bar(self.console, "trials", eta=False)
            self.progress.start()
            self.task = self.progress.add_task(label, total=todo, parts=self.parts(result))

    def on_trial(self, result, trial) -> None:
        from mlrun.cli.console import fmt, status_style

        self.done += 1
        self.seen(result, trial)
        if trial.status == "failed":
            self.console.print(styled(("failed", "red"), f" {self.label(trial)}: {trial.error} ({trial.run})"))
        if self.progress is not None:
            self.progress.update(self.task, completed=self.done, parts=self.parts(result))
        elif not self.quiet and trial.status != "failed":
            value = trial.metrics.get(self.metric or "")
            metric = f"  {self.metric} {fmt(value)}" if value is not None else ""
            if trial.pruning:
                p = trial.pruning
                over = f" (mean of {p['seeds']} seeds)" if p.get("seeds") else ""
                metric = f"  at epoch {p['rung']}: {p['metric']} {fmt(p['value'])}{over} behind {fmt(p['cutoff'])}"
            self.console.print(styled(f"[{self.done}/{len(result.to_run)}] ",
                                      (str(trial.status), status_style(trial.status)),
                                      f" {self.label(trial)}{metric}  ({fmt(trial.seconds, 3)} s)"))

    def on_note(self, result, message) -> None:
        """What the cluster did (a lost worker, an empty cluster), the moment it is seen."""
        self.console.print(styled(("warning", "yellow"), f": {message}"))

    def on_end(self, result, trial) -> None:
        if self.progress is not None:
            self.progress.update(self.task, parts=self.parts(result))
            self.progress.stop()


def sweep_summary(console, result, top: int = 12) -> None:
    """Counts, the seed-grouped comparison of the sweep's runs, and the commands to go further."""

    from mlrun.comparison import select as cmp
    counts = ", ".join(f"{n} {s}" for s, n in result.counts.items())
    console.print(f"{len(result.trials)} trials: {counts}")
    lost, reruns = result.cluster.get("lost_workers") or [], result.cluster.get("reruns") or {}
    if lost:
        names = ", ".join(str(w["name"]) for w in lost)
        again = f"; Dask reran {len(reruns)} trial{'s' if len(reruns) != 1 else ''}" if reruns else ""
        console.print(styled(("warning", "yellow"), f": lost {len(lost)} Dask worker{'s' if len(lost) > 1 else ''}"
                             f" ({names}){again}"))
    if result.lost:
        console.print(styled(("stopped", "red"), f": {result.lost}; the unfinished trials are pending"))
    try:
        rows = cmp.compare([str(result.path)], group=True, top=top, on_warning=lambda message: None)
    except (OSError, ValueError):
        rows = []
    if rows:  # the swept keys are what tells the rows apart: they stay at any width
        axes = dict.fromkeys(o.partition("=")[0] for t in result.trials for o in t.overrides)
        print_table(rows, rows.columns, 4, console=console, keep=[k for k in axes if k in rows.columns])
    console.print(styled("compare: ", (f"mlrun compare {result.path} --group", "bold")))
    if result.interrupted or result.n_failed or result.stopped or result.lost:
        console.print(styled("rerun what did not finish: ", (f"mlrun sweep --resume {result.path}", "bold")))


def render_dry_run(console, result, first: int = 10) -> None:
    """What --dry-run shows: the trial count, the fingerprint and the first trials' overrides."""
    n = len(result.trials)
    console.print(styled(f"{n} trial{'s' if n != 1 else ''} of sweep ", (str(result.name), "bold"),
                         f" (fingerprint {result.fingerprint[:12]})"))
    for trial in result.trials[:first]:
        console.print(f"  {trial.index:>4}  {SweepProgress.label(trial)}")
    if n > first:
        console.print(f"  ... and {n - first} more")
