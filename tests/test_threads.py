from __future__ import annotations

import hypothesis
import numpy as np
from hypothesis import strategies as st

from tribe_analysis import threads


def _walk(parent: np.ndarray, max_depth: int) -> tuple[list[int], list[int], list[bool]]:
    """Each row's chain followed one step at a time: top row, distance, stuck."""
    tops, dists, stuck = [], [], []
    for row in range(parent.size):
        node, steps = row, 0
        while parent[node] >= 0 and steps < max_depth:
            node, steps = int(parent[node]), steps + 1
        tops.append(node)
        dists.append(steps)
        stuck.append(bool(parent[node] >= 0))
    return tops, dists, stuck


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(
    st.integers(1, 40).flatmap(lambda n: st.lists(st.integers(-1, n - 1), min_size=n, max_size=n)),
    st.sampled_from([1, 2, 3, 5, 8, 64]),
)
def test_jump_follows_every_chain_as_a_walk_does(parents, max_depth):
    """Pointer jumping gives each row's top, distance and stuck flag as a step-by-step walk.

    Random parent arrays hold forests, cycles and rows feeding into cycles; a chain
    that does not end within ``max_depth`` steps is stuck (also when ``max_depth`` is
    no power of two).
    """
    parent = np.array(parents, dtype=np.int64)
    ptr, dist, stuck = threads._jump(parent, max_depth)
    tops, dists, walk_stuck = _walk(parent, max_depth)
    assert stuck.tolist() == walk_stuck
    done = ~stuck
    assert ptr[done].tolist() == [t for t, s in zip(tops, walk_stuck, strict=True) if not s]
    assert dist[done].tolist() == [d for d, s in zip(dists, walk_stuck, strict=True) if not s]
    bare_ptr, no_dist, bare_stuck = threads._jump(parent, max_depth, distances=False)
    assert no_dist is None
    assert bare_ptr.tolist() == ptr.tolist() and bare_stuck.tolist() == stuck.tolist()
