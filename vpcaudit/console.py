"""Writing to the terminal: the one way text reaches stdout and stderr.

Everything written here is made inert first (vpcaudit.termtext): reports and messages carry
tags and ids from accounts the reader may not control. A reader that goes away
(`vpcaudit evaluate s.json | head`) must not change the exit code the command computed, nor
print a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TextIO

from vpcaudit.termtext import safe, safe_block

Painter = Callable[[str], str]
"""Adds colour to one line that is already safe (it may add SGR sequences, nothing else)."""


def out(text: str, paint: Painter | None = None) -> None:
    """Write to stdout, controls made visible, then coloured line by line when paint is given;
    if the reader has gone, drop the rest silently."""
    text = safe_block(text)
    if paint is not None:
        # After sanitising: the only escape sequences left are the painter's own.
        text = "\n".join(paint(line) for line in text.split("\n"))
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def err(line: str) -> None:
    """One message line on stderr, controls (a newline too) made visible: error texts quote
    snapshot data, and an embedded line break could forge a second message."""
    sys.stderr.write(safe(line.rstrip("\n")) + "\n")
    sys.stderr.flush()


def colour_wanted(no_color: bool = False, stream: TextIO | None = None) -> bool:
    """Colour only on a terminal, and never under --no-color or a non-empty NO_COLOR
    (no-color.org)."""
    stream = stream or sys.stdout
    if no_color or os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except ValueError:  # a closed stream
        return False
