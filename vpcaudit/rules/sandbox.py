"""No AWS call from a rule: while rules load and run, every botocore API call is refused.

Rules work from the inventory the scanner already read. A third-party rule is trusted code
(docs/writing-rules.md), but it runs in a process that holds the scanner's credentials, and
`boto3.client("ec2")` made inside it would not carry the scanner's read-only guard. So for as
long as rules are imported and evaluated, botocore's one request path refuses every call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient

from vpcaudit.errors import ConfigError


class RuleCalledAws(ConfigError):
    """A rule tried to call an AWS API (exit 2: the plugin, not the input, must change)."""


_lock = threading.Lock()
# botocore routes every operation of every client through this one method.
_METHOD = "_make_api_call"
_original = getattr(BaseClient, _METHOD)
_who: list[str] = []  # who holds the block, innermost last; empty = calls allowed


def _refuse(self: BaseClient, operation_name: str, api_params: Any) -> Any:
    service = self.meta.service_model.service_name
    who = _who[-1] if _who else "a rule"
    raise RuleCalledAws(
        f"{who} called AWS ({service}:{operation_name}); rules must work from the inventory "
        f"only and may not call AWS (docs/writing-rules.md)"
    )


@contextmanager
def no_aws_calls(who: str) -> Iterator[None]:
    """Refuse every botocore API call, in every thread, until the block ends."""
    with _lock:
        if not _who:
            setattr(BaseClient, _METHOD, _refuse)
        _who.append(who)
    try:
        yield
    finally:
        with _lock:
            _who.pop()
            if not _who:
                setattr(BaseClient, _METHOD, _original)
