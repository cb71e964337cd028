"""gitopslib.kustomize.chunks: how validate and promote cut many overlays into kubectl processes."""

from __future__ import annotations

import pytest
from gitopslib import kustomize
from hypothesis import given
from hypothesis import strategies as st


@given(count=st.integers(0, 700), size=st.integers(1, 120), cores=st.integers(1, 8))
def test_chunks_keep_every_overlay_in_order_and_balanced(count: int, size: int, cores: int) -> None:
    overlays = list(range(count))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kustomize, "cores", lambda: cores)
        found = kustomize.chunks(overlays, size)  # type: ignore[arg-type]
    assert [item for chunk in found for item in chunk] == overlays
    assert all(chunk for chunk in found), "no empty process"
    lengths = [len(chunk) for chunk in found]
    assert not lengths or max(lengths) - min(lengths) <= 1
    assert all(length <= size for length in lengths)
    fewest = -(-count // size)
    if count >= kustomize.MIN_CHUNK_OVERLAYS * cores:
        assert len(found) == max(fewest, cores), "every core gets a share"
    else:  # split further only into processes worth starting
        assert len(found) == fewest or min(lengths) >= kustomize.MIN_CHUNK_OVERLAYS
