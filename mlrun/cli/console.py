"""Terminal rendering with rich: the live training display and result tables, for the CLI (compare,
lr-find and sweep have their own ``*_view`` modules)."""

from __future__ import annotations

import math
import os

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table


def make_console(stderr: bool = False) -> Console:
    # rich honours NO_COLOR itself; highlight=False keeps numbers in plain colour
    console = Console(stderr=stderr, highlight=False, soft_wrap=False,
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


class TrainProgress:
    """Trainer callback: a live bar on a terminal, a plain line every few epochs elsewhere."""

    def __init__(self, console: Console, epochs: int, metric: str, name: str = "") -> None:
        self.console, self.epochs, self.metric, self.name = console, epochs, metric, name
        self.every = max(1, epochs // 10)
        self.progress = None
        self.task = None

    def on_train_begin(self, trainer) -> None:
        self.epochs = trainer.epochs
        if self.console.is_terminal:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                console=self.console, transient=False,
            )
            self.progress.start()
            self.task = self.progress.add_task(self.name or "train", total=self.epochs,
                                               completed=trainer.epoch, info="")

    def _info(self, logs: dict) -> str:
        parts = [f"loss {fmt(logs.get('train_loss'))}"]
        if logs.get("val_loss") is not None:
            parts.append(f"val {fmt(logs['val_loss'])}")
        value = logs.get(f"val_{self.metric}")
        if value is not None:
            parts.append(f"val_{self.metric} {fmt(value)}")
        parts.append(f"lr {fmt(logs.get('learning_rate'), 3)}")
        return "  ".join(parts)

    def on_epoch_end(self, trainer, logs: dict) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=trainer.epoch, info=self._info(logs))
        elif trainer.epoch % self.every == 0 or trainer.epoch == self.epochs or trainer.epoch == 1:
            self.console.print(f"epoch {trainer.epoch}/{self.epochs}  {self._info(logs)}")

    def on_train_end(self, trainer) -> None:
        if self.progress is not None:
            self.progress.stop()


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
                "stale": "yellow", "running": "cyan"}


def render_run(console: Console, run) -> None:
    style = STATUS_STYLE.get(run.status, "")
    console.print(f"[{style}]{run.status}[/] ({run.stop_reason}) after {run.epochs} epochs")
    if run.metrics:
        console.print(metrics_table(run.metrics))
    if run.metrics and getattr(run, "baselines", None):
        console.print(baselines_table(run))
    for tip in run.advice:
        console.print(f"[yellow]advice:[/] {tip}")
    for warning in run.warnings:
        console.print(f"[dim]warning: {warning}[/]")
    console.print(f"run directory: [bold]{run.path}[/]")
