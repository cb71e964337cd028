"""Hypothesis settings of the unit tests' properties: the same examples on every run (a CI
failure reproduces locally), no example database written into the shared work tree, and no
deadline (the machine is shared, timings vary)."""

from __future__ import annotations

from hypothesis import settings

PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=200)
