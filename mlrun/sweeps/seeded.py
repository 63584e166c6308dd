"""Seed-aware pruning: with ``--seeds K`` the rung table judges configurations, not seeds.

The rule (docs/pruning.md): a seed arriving at a rung is parked at the driver (its state is kept, its
worker slot is freed) until every seed of its configuration still training has arrived there; then
the configuration is judged once, on the mean over those seeds, epoch by epoch (``Pruner.decide_group``),
and all of them continue or all of them are pruned with the same decision. A seed that failed or
diverged before the rung is not waited for and does not count. So every seed of a pruned configuration
stops at the same rung with the same history length, nothing is cancelled on a worker, and the
decisions depend only on the order of arrivals, as the per-trial rule's do.
"""

from __future__ import annotations

from collections import defaultdict, deque

from mlrun.sweeps.pruning import Pruner, mean_history


def group_keys(trials) -> list[str]:
    """Each trial's configuration (its overrides without the seed): the unit seed-aware pruning judges."""
    return ["; ".join(t.overrides) or "(the spec)" for t in trials]


class SeedGroups:
    """The driver's bookkeeping of configurations at rungs; ``arrive`` returns the final results."""

    def __init__(self, groups: list[str], indices: list[int], pruner: Pruner) -> None:
        self.group_of, self.pruner = groups, pruner
        self.live: dict[str, set[int]] = defaultdict(set)  # seeds still training (or parked)
        for i in indices:
            self.live[groups[i]].add(i)
        self.parked: dict[str, dict[int, tuple]] = defaultdict(dict)  # group -> {index: (result, job)}
        self.done: dict[str, dict[int, list[dict]]] = defaultdict(dict)  # completed seeds' histories

    def arrive(self, res, job, queue: deque, prune) -> list:
        """``res`` came back for ``job``: park it at its rung, or take it out of its group (a final
        result). ``prune(res, decision)`` makes a pruned final result."""
        group, outcome = self.group_of[res.index], res.outcome
        if outcome is not None and outcome.stop_reason == "rung" and getattr(res, "state", None) is not None:
            self.parked[group][res.index] = (res, job)
            return self._judge(group, queue, prune)
        self.live[group].discard(res.index)
        if outcome is not None and outcome.status == "completed":
            self.done[group][res.index] = outcome.history
            if not self.live[group]:
                histories = [h for _, h in sorted(self.done[group].items())]
                self.pruner.finished(group, mean_history(histories, self.pruner.metric,
                                                         min(len(h) for h in histories)))
        return [res, *self._judge(group, queue, prune)]

    def _judge(self, group: str, queue: deque, prune) -> list:
        parked = self.parked[group]
        if not parked or set(parked) != self.live[group]:
            return []
        self.parked[group] = {}
        items = [parked[i] for i in sorted(parked)]
        rung = items[0][0].outcome.epochs
        decision = self.pruner.decide_group(group, [res.outcome.history for res, _ in items], rung)
        if not decision.stop:
            for res, job in reversed(items):  # continuations first, the group's seeds in index order
                job.resume = res.state
                queue.appendleft(job)
            return []
        self.live[group].clear()
        return [prune(res, decision) for res, _ in items]
