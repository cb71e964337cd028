"""Wall-clock timing with medians; baselines and candidates are measured in the same run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figure:
    name: str
    baseline_name: str
    baseline: float
    ours: float
    runs: int
    target: str

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline

    def row(self) -> str:
        return (
            f"| {self.name} | {self.baseline_name}: {self.baseline:.2f} s | {self.ours:.2f} s | "
            f"{self.ratio:.2f} | {self.target} | {self.runs} |"
        )


def median_seconds(
    action: Callable[[], object], runs: int, prepare: Callable[[], object] | None = None
) -> float:
    """Median wall time of `action` over `runs` runs; `prepare` runs untimed before each."""
    samples = []
    for _ in range(runs):
        if prepare is not None:
            prepare()
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)
