"""Terminal rendering with rich: the live training display and result tables, for the CLI (compare,
lr-find and sweep have their own ``*_view`` modules)."""

from __future__ import annotations

import math
import os

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn
from rich.table import Column, Table
from rich.text import Text


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich would exit 1; a closed pipe (mlrun registry | head) is the reader being done, which the
        # command group turns into exit 0
        self.quiet = True
        raise BrokenPipeError


def make_console(stderr: bool = False, **options) -> Console:
    """The one kind of console: markup off, so a run name, a path like ``exp[v2]``, a status or a value
    from a file is printed as the text it is (styles come only from ``styled``/``Text``)."""
    # rich honours NO_COLOR itself; highlight=False keeps numbers in plain colour
    console = _Console(**options, stderr=stderr, highlight=False, soft_wrap=False, markup=False,
                      no_color=bool(os.environ.get("NO_COLOR")) or None)
    # piped (CI logs, scripts): no hard line breaks at 80 columns inside text, so a printed run
    # directory stays one line that grep and copy-paste get whole; tables keep their own layout
    console.soft_wrap = not console.is_terminal
    return console


def fmt(value, precision: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.{precision}g}" if abs(value) < 1e5 else f"{value:.3e}"
    return str(value)


def _clock(seconds) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-:--:--"
    minutes, sec = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{sec:02d}"


def fitted(head: str, parts: list[str], budget: int) -> str:
    """``head`` (always shown) and as many whole ``parts`` as fit in ``budget`` columns, in order."""
    text = head
    for part in parts:
        if len(text) + 2 + len(part) > budget:
            break
        text += "  " + part
    return text


def bar_layout(width: int, label: str) -> tuple[str, int]:
    """A progress bar's label (cut to a sixth of the width) and bar width on a ``width``-column terminal:
    the bar gives way first, so the counts, times and values beside it stay whole."""
    most = max(6, width // 6)
    label = label if len(label) <= most else label[: most - 1] + "…"
    return label, max(4, min(40, width - 74))


class StatusColumn(ProgressColumn):
    """The text right of a bar: "M/N elapsed eta T" (``clock``) or "M/N elapsed" and then the task's
    ``parts`` (in order of importance) as far as the terminal is wide; measured at each refresh."""

    def __init__(self, console: Console, reserved: int, eta: bool = True, unit: str = "") -> None:
        super().__init__(table_column=Column(no_wrap=True, overflow="ellipsis"))
        self.console, self.reserved, self.eta, self.unit = console, reserved, eta, unit

    def render(self, task) -> Text:
        head = f"{self.unit}{int(task.completed)}/{int(task.total or 0)} {_clock(task.elapsed)}"
        if self.eta:
            head += f" eta {_clock(task.time_remaining)}"
        parts = task.fields.get("parts") or []
        return Text(fitted(head, parts, self.console.width - self.reserved - 1), no_wrap=True, overflow="ellipsis")


def status_bar(console: Console, label: str, eta: bool = True, unit: str = "") -> tuple[Progress, str]:
    """A one-line progress display that keeps its counts and times at any terminal width, and the
    task description to give it (the label, cut to fit; shown as text, never markup)."""
    label, bar = bar_layout(console.width, label)
    progress = Progress(TextColumn("{task.description}", style="bold", markup=False), BarColumn(bar_width=bar),
                        StatusColumn(console, len(label) + 1 + bar + 1, eta, unit), console=console, transient=False)
    return progress, label


class TrainProgress:
    """Trainer callback: a live bar on a terminal, a plain line every few epochs elsewhere (the first and
    the last always). The bar always shows the epoch counter, elapsed time, ETA and the training loss;
    validation loss, the metric and the learning rate follow as far as the width allows."""

    def __init__(self, console: Console, epochs: int, metric: str, name: str = "") -> None:
        self.console, self.epochs, self.metric, self.name = console, epochs, metric, name
        self.every = max(1, epochs // 10)
        self.progress = None
        self.task = None
        self.last = None  # (epoch, logs) of the last epoch not yet printed (piped output)

    def on_train_begin(self, trainer) -> None:
        self.epochs = trainer.epochs
        self.every = max(1, self.epochs // 10)
        if self.console.is_terminal:
            self.progress, label = status_bar(self.console, self.name or "train", unit="epoch ")
            self.progress.start()
            self.task = self.progress.add_task(label, total=self.epochs,
                                               completed=trainer.epoch, parts=[])

    def _parts(self, logs: dict) -> list[str]:
        parts = [f"loss {fmt(logs.get('train_loss'))}"]
        if logs.get("val_loss") is not None:
            parts.append(f"val {fmt(logs['val_loss'])}")
        value = logs.get(f"val_{self.metric}")
        if value is not None:
            parts.append(f"val_{self.metric} {fmt(value)}")
        parts.append(f"lr {fmt(logs.get('learning_rate'), 3)}")
        return parts

    def _info(self, logs: dict) -> str:
        return "  ".join(self._parts(logs))

    def on_epoch_end(self, trainer, logs: dict) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=trainer.epoch, parts=self._parts(logs))
        elif trainer.epoch % self.every == 0 or trainer.epoch == self.epochs or trainer.epoch == 1:
            self.console.print(f"epoch {trainer.epoch}/{self.epochs}  {self._info(logs)}")
            self.last = None
        else:
            self.last = (trainer.epoch, logs)

    def on_train_end(self, trainer) -> None:
        if self.progress is not None:
            self.progress.stop()
        elif self.last is not None:  # early stopping, divergence or a signal ended between two lines
            epoch, logs = self.last
            self.console.print(f"epoch {epoch}/{self.epochs}  {self._info(logs)}")
            self.last = None


def metrics_table(metrics: dict, precision: int = 4, title: str = "metrics") -> Table:
    splits = [s for s in ("train", "validation", "test") if s in metrics]
    names = [k for k in (metrics.get("test") or metrics[splits[0]]) if k != "confusion_matrix"] if splits else []
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    for split in splits:
        table.add_column(split, justify="right", style="bold" if split == "test" else None)
    for name in names:
        table.add_row(name, *[fmt(metrics[s].get(name), precision) for s in splits])
    return table


def baselines_table(run, precision: int = 4) -> Table:
    """The network and each baseline side by side: one row each, the task's main test metrics."""
    from mlrun.metrics.names import MAIN_COLUMNS

    split = "test" if "test" in run.metrics else "validation"
    names = [m for m in MAIN_COLUMNS.get(run.task, ()) if m in (run.metrics.get(split) or {})]
    table = Table(title=f"network and baselines ({split})", title_justify="left")
    table.add_column("model")
    for name in names:
        table.add_column(name, justify="right")
    table.add_row("network", *[fmt(run.metrics[split].get(name), precision) for name in names], style="bold")
    for label, by_split in run.baselines.items():
        table.add_row(label, *[fmt((by_split.get(split) or {}).get(name), precision) for name in names])
    return table


STATUS_STYLE = {"completed": "green", "diverged": "red", "failed": "red", "interrupted": "yellow",
                "pruned": "magenta",
                "stale": "yellow", "running": "cyan", "unreadable": "bold red"}


def status_style(status) -> str:
    """The style of a status word; any other value (a seed group's "1 completed, 1 diverged", null, a
    list from a hand-edited run.json) is shown unstyled."""
    return STATUS_STYLE.get(status, "") if isinstance(status, str) else ""


def styled(*parts) -> Text:
    """A line from plain strings and (string, style) pairs; nothing in it is read as markup."""
    return Text.assemble(*[p if isinstance(p, tuple) else str(p) for p in parts])


def run_summary(run) -> str:
    """One line: status, why it stopped (when that says more than the status) and where."""
    epochs = f"{run.epochs} epoch{'s' if run.epochs != 1 else ''}"
    if run.status == "diverged":  # the diverging epoch did not complete: name it as the advice does
        return f"diverged in epoch {run.epochs + 1} ({epochs} completed)"
    reason = f" ({run.stop_reason})" if run.stop_reason and run.stop_reason != run.status else ""
    line = f"{run.status}{reason} after {epochs}"
    if run.restored_epoch:
        line += (f"; the weights are those of epoch {run.restored_epoch}, the best (early_stopping.restore_best):"
                 " the metrics below are theirs")
    return line


def render_run(console: Console, run) -> None:
    console.print(Text(run_summary(run), style=status_style(run.status)))
    if run.task == "regression":  # val_loss 0.65 beside mse 3624 is not a contradiction
        console.print(styled(("loss, val_loss (and the progress above) are on standardised targets "
                              "(training mean 0, std 1); the metrics below are in the targets' own units", "dim")))
    if run.metrics:
        console.print(metrics_table(run.metrics))
    if run.metrics and getattr(run, "baselines", None):
        console.print(baselines_table(run))
    # advice, warnings and paths carry user text (labels, file names): printed as text, never markup
    render_findings(console, getattr(run, "findings", []))
    for tip in run.advice[len(getattr(run, "findings", [])):]:
        console.print(Text.assemble(("advice:", "yellow"), " ", tip))
    for warning in run.warnings:
        console.print(Text(f"warning: {warning}", style="dim"))
    console.print(Text.assemble("run directory: ", (str(run.path), "bold")))


def render_findings(console: Console, findings: list[dict]) -> None:
    """The advisor's findings: the message, its evidence, and each remedy on a line of its own."""
    for finding in findings:
        console.print(Text.assemble(("finding: ", "bold yellow"), finding["message"]))
        for line in finding.get("remedy") or []:
            console.print(Text.assemble("  try ", (line, "cyan")))


DIAGNOSTIC_LABELS = {"act_mean": "activation mean", "act_std": "activation std", "act_p02": "2nd percentile",
                     "act_p98": "98th percentile", "saturated": "saturated share", "dead": "dead share",
                     "grad_std": "d loss/d act std", "weight_grad_norm": "||dW||", "update_ratio": "||ΔW|| / ||W||"}


def _compact(value) -> str:
    if isinstance(value, float) and math.isfinite(value) and value != 0 and abs(value) < 0.01:
        return f"{value:.1e}"
    return fmt(value, 3)


def render_report(console: Console, report) -> None:
    """mlrun diagnose: a row per quantity, a column per hidden layer (fits 80 columns up to ~6 layers)."""
    table = Table(title=f"hidden layers at epoch {report.epoch}", title_justify="left")
    table.add_column("quantity")
    for row in report.rows:
        table.add_column(Text(f"layer {row[0]}\n{row[1]}"), justify="right")
    for i, column in enumerate(report.columns[2:], start=2):
        table.add_row(DIAGNOSTIC_LABELS.get(column, column), *[Text(_compact(row[i])) for row in report.rows])
    console.print(table)
    if not report.findings:
        console.print("no findings")
