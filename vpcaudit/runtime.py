"""Process-level settings of a command run (a light module: the CLI and benches share it)."""

from __future__ import annotations

import gc

__all__ = ["keep_for_the_run"]


def keep_for_the_run(*objects: object) -> None:
    """The snapshot and inventory live until the process exits: move them (and everything
    alive now) out of the cyclic collector's reach, so that full collections triggered while
    rules allocate do not rescan hundreds of thousands of models each time (0.6 s of a 3 s
    evaluation of 10,000 VPCs)."""
    del objects  # named for the reader: gc.freeze takes every live object
    gc.freeze()
