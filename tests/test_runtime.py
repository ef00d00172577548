"""Process-level settings: the cyclic collector's state around bulk work."""

from __future__ import annotations

import gc
import weakref

import pytest

from vpcaudit.runtime import without_cyclic_gc


def test_the_cyclic_collector_is_off_inside_and_as_it_was_after() -> None:
    assert gc.isenabled()
    with without_cyclic_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with without_cyclic_gc():
            assert not gc.isenabled()
        assert not gc.isenabled(), "left off when it was off"
    finally:
        gc.enable()
    with pytest.raises(ValueError, match="boom"), without_cyclic_gc():
        raise ValueError("boom")
    assert gc.isenabled()


class _Made:
    """A tracked object of a type made nowhere else, to find among the collector's."""


def _tracked(generation: int) -> int:
    return sum(isinstance(o, _Made) for o in gc.get_objects(generation))


def test_keep_freezes_what_was_made_inside_so_no_collection_traverses_it() -> None:
    before = gc.get_freeze_count()
    try:
        with without_cyclic_gc(keep=True):
            made = [_Made() for _ in range(1000)]
            assert _tracked(0) == 1000  # counted young, for a collection to traverse
        assert gc.isenabled()
        assert gc.get_freeze_count() >= before + 1000
        assert sum(_tracked(g) for g in range(3)) == 0, "left in a generation"
        first = weakref.ref(made[0])
        del made
        assert first() is None, "reference counting still frees frozen objects"
    finally:
        gc.unfreeze()
    with without_cyclic_gc():
        kept = [_Made() for _ in range(10)]
    assert sum(_tracked(g) for g in range(3)) == 10, "without keep, the collector keeps them"
    del kept
