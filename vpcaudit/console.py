"""Writing to stdout: a reader that goes away (`vpcaudit evaluate s.json | head`) must not
change the exit code the command computed, nor print a traceback."""

from __future__ import annotations

import os
import sys


def out(text: str) -> None:
    """Write to stdout and flush; if the reader has gone, drop the rest silently."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
