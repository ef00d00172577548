"""The report formats of `--format` (a light module: the parser needs it, not the reporters)."""

from __future__ import annotations

import enum


class Format(enum.StrEnum):
    """Output formats of `--format`."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"
    CSV = "csv"
    HTML = "html"
