"""Work spread over this machine's cores."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def cores() -> int:
    """The cores this process may run on (a CI runner's cgroup or taskset may allow fewer than exist)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def side_by_side(work: Callable[[Item], Result], items: Iterable[Item]) -> list[Result]:
    """`work` on every item, as many at a time as there are cores, results in the items' order.
    Threads suffice: the work is a kubectl process each, and the GIL is free while it runs."""
    items = list(items)
    if len(items) < 2 or cores() < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(cores(), len(items))) as pool:
        return list(pool.map(work, items))
