"""Local files a reader can trust: written atomically, never through a symlink, with a mode
that keeps other users out (a light module: no AWS SDK)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from vpcaudit.errors import ConfigError

__all__ = ["REPORT_MODE", "SNAPSHOT_MODE", "file_mode", "write_local"]

REPORT_MODE = 0o640
"""Reports: owner read-write, group read (they name accounts and resources)."""
SNAPSHOT_MODE = 0o600
"""Snapshots: owner only (every raw item of every account scanned)."""


def file_mode(kind: str, default: int) -> int:
    """The mode for new files of a kind: VPCAUDIT_REPORT_MODE / VPCAUDIT_SNAPSHOT_MODE
    (octal, e.g. 0644) override the default."""
    name = f"VPCAUDIT_{kind.upper()}_MODE"
    text = os.environ.get(name)
    if not text:
        return default
    try:
        mode = int(text, 8)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not an octal file mode such as 0640") from None
    if not 0 <= mode <= 0o777:
        raise ConfigError(f"{name}={text!r} is not a file mode (0000-0777)")
    return mode


def write_local(path: Path, text: str | Iterable[str], mode: int) -> None:
    """Write a file the way a reader can trust: a temporary file in the same directory with
    the final mode from the start, then os.replace, so a reader never sees half a report and
    a symlink planted at the target is refused, not followed. `text` may come in pieces (a
    report streamed as it is rendered, never whole in memory)."""
    if path.is_symlink():
        raise ConfigError(f"refusing to write {path}: it is a symbolic link")
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", buffering=1 << 20) as f:
            for chunk in [text] if isinstance(text, str) else text:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        Path(tmp).replace(path)
    except BaseException as exc:
        # Whatever stopped the write (a full disk, an error while rendering a piece), the
        # temporary file goes, and the target keeps its last complete version.
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
