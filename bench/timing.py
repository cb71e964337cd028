"""Wall-clock timing in interleaved pairs: baseline, ours, baseline, ours, ... in the same run.

A machine's speed drifts (other work, caches, thermal limits): timing all baseline runs and then
all of ours lets that drift into the ratio. Interleaving puts each of our runs next to a baseline
run, and the figure is the median of the pairs' ratios, with the smallest and largest beside it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figure:
    name: str
    baseline_name: str
    baselines: list[float]
    ours: list[float]
    target: str

    @property
    def ratios(self) -> list[float]:
        return [mine / base for base, mine in zip(self.baselines, self.ours, strict=True)]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    def row(self) -> str:
        baseline, ours = statistics.median(self.baselines), statistics.median(self.ours)
        spread = f"{min(self.ratios):.2f}-{max(self.ratios):.2f}"
        return (
            f"| {self.name} | {self.baseline_name}: {baseline:.2f} s | {ours:.2f} s | "
            f"{self.ratio:.2f} ({spread}) | {self.target} | {len(self.ratios)} |"
        )


HEADER = (
    "| benchmark | baseline (median) | ours (median) | ratio: median of pairs (min-max) | target | pairs |\n"
    "|---|---|---|---|---|---|"
)


def seconds(action: Callable[[], object], prepare: Callable[[], object] | None = None) -> float:
    """Wall time of one run of `action`; `prepare` runs untimed before it."""
    if prepare is not None:
        prepare()
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def paired(
    name: str,
    baseline_name: str,
    baseline: Callable[[], object],
    ours: Callable[[], object],
    pairs: int,
    target: str,
    prepare: Callable[[], object] | None = None,
) -> Figure:
    """`pairs` runs of each, alternating which of the two goes first (a cache the first run warms
    then favours each side equally)."""
    figure = Figure(name, baseline_name, [], [], target)
    for index in range(pairs):
        if index % 2:
            mine = seconds(ours, prepare)
            figure.baselines.append(seconds(baseline, prepare))
        else:
            figure.baselines.append(seconds(baseline, prepare))
            mine = seconds(ours, prepare)
        figure.ours.append(mine)
    return figure
