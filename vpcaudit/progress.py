"""A progress bar on stderr for interactive scans (tqdm: tested, handles TTY width and rates)."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from tqdm import tqdm

from vpcaudit.aws.collect import PreparedAccount, RegionResult


class BarProgress:
    """Accounts prepared, regions done and gaps so far, as one tqdm bar on stderr."""

    def __init__(self, stream: TextIO | None = None) -> None:
        """Draw on stream (stderr by default)."""
        self._stream = stream or sys.stderr
        self._bar: tqdm[Any] | None = None
        self._accounts = 0
        self._ready = 0
        self._gaps = 0

    def start(self, accounts: int) -> None:
        """Open the bar; its total grows as accounts report their regions."""
        self._accounts = accounts
        self._bar = tqdm(
            total=0,
            unit="region",
            file=self._stream,
            dynamic_ncols=True,
            desc="scanning",
            leave=False,
        )
        self._refresh()

    def account_ready(self, prepared: PreparedAccount) -> None:
        """Add the account's regions to the total."""
        self._ready += 1
        self._gaps += len(prepared.gaps)
        if self._bar is not None and prepared.target is not None:
            self._bar.total = (self._bar.total or 0) + len(prepared.target.regions)
        self._refresh()

    def region_done(self, result: RegionResult) -> None:
        """Advance by one region."""
        self._gaps += len(result.gaps)
        if self._bar is not None:
            self._bar.update(1)
        self._refresh()

    def close(self) -> None:
        """Remove the bar from the terminal."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _refresh(self) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(
                f"accounts {self._ready}/{self._accounts}, gaps {self._gaps}", refresh=True
            )
