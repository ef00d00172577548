"""Logging: structlog on stderr, console lines on a TTY, JSON lines otherwise (containers)."""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from vpcaudit.termtext import safe, safe_block

LEVELS = ("debug", "info", "warning", "error")

# Keys never written to a log, whatever a caller passes: credentials must not leak into logs.
_SECRET_KEYS = frozenset(
    {
        "aws_secret_access_key",
        "secret_access_key",
        "SecretAccessKey",
        "aws_session_token",
        "session_token",
        "SessionToken",
        "Credentials",
        "credentials",
        "token",
    }
)


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in _SECRET_KEYS & event.keys():
        event[key] = "[redacted]"
    return event


# Keys the console renderer formats itself, or that are tracebacks (several lines each).
_KEEP = frozenset({"exc_info"})
_MULTILINE = frozenset({"exception", "stack"})


def _inert(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Make every value terminal-safe before the console renderer prints it raw: messages and
    values quote tags and ids from accounts the reader may not control."""
    for key, value in list(event.items()):
        if key in _KEEP:
            continue
        if key in _MULTILINE and isinstance(value, str):
            event[key] = safe_block(value)
        elif isinstance(value, str):
            event[key] = safe(value)
        elif value is not None and not isinstance(value, bool | int | float):
            # The renderer would print repr(value); a custom repr need not escape anything.
            event[key] = safe(repr(value))
    return event


def _inert_traceback(sio: TextIO, exc_info: Any) -> None:
    """A plain traceback (no frame locals), its text made terminal-safe."""
    buf = io.StringIO()
    structlog.dev.plain_traceback(buf, exc_info)
    sio.write(safe_block(buf.getvalue()))


def configure(level: str = "warning", fmt: str | None = None, stream: TextIO | None = None) -> None:
    """Set up structlog for the CLI: level, console or JSON format, written to stderr."""
    stream = stream or sys.stderr
    if fmt is None:
        # A container sets VPCAUDIT_LOG_FORMAT=json; otherwise follow the terminal.
        fmt = os.environ.get("VPCAUDIT_LOG_FORMAT") or ("console" if stream.isatty() else "json")
    if fmt not in ("console", "json"):
        fmt = "json"
    # Tracebacks never carry frame locals: they held role external ids and credentials.
    renderer: list[Any] = (
        [
            _inert,
            structlog.dev.ConsoleRenderer(
                colors=stream.isatty(), exception_formatter=_inert_traceback
            ),
        ]
        if fmt == "console"
        # JSON cannot carry an exc_info tuple: turn tracebacks into data first. json.dumps
        # escapes every control and non-ASCII character (ensure_ascii), so values stay inert.
        else [
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            ),
            structlog.processors.JSONRenderer(sort_keys=True),
        ]
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            *renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
