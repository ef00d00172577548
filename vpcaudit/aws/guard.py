"""The read-only guard: refuse, before anything is sent, any API call that could change AWS.

It is registered on every botocore session the scanner creates, so it covers every client made
from it. An operation passes only if its name starts with Describe, List or Get, or if it is one
of the few calls named below: credential calls, which mint temporary credentials and change no
resource, and reads whose names do not say so.
"""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel

from vpcaudit.errors import MutatingCallRefused

READ_PREFIXES = ("Describe", "List", "Get")
CREDENTIAL_CALLS = frozenset(
    {
        ("sts", "AssumeRole"),
        ("sts", "AssumeRoleWithWebIdentity"),
        ("sts", "AssumeRoleWithSAML"),
    }
)
# Reads named otherwise, each by its exact name: allowing a whole prefix such as "Search" would
# let through whatever AWS names that way next.
READ_CALLS = frozenset(
    {
        # The routes of one Transit Gateway route table (AWS has no Describe form of it).
        ("ec2", "SearchTransitGatewayRoutes"),
    }
)
EVENT = "before-parameter-build"
HANDLER_ID = "vpcaudit-read-only-guard"


def is_read_only(service: str, operation: str) -> bool:
    """True when the operation may be called by the scanner."""
    return (
        operation.startswith(READ_PREFIXES)
        or (service, operation) in CREDENTIAL_CALLS
        or (service, operation) in READ_CALLS
    )


def refuse_mutations(model: OperationModel, **_: Any) -> None:
    """Botocore event handler: raise MutatingCallRefused for any non-read operation."""
    service = model.service_model.service_name
    if not is_read_only(service, model.name):
        raise MutatingCallRefused(
            f"read-only guard refused {service}:{model.name}: vpcaudit never changes AWS resources"
        )


def install(events: Any) -> None:
    """Register the guard on a botocore event emitter (idempotent)."""
    events.register(EVENT, refuse_mutations, unique_id=HANDLER_ID)
