"""The read-only guard: refuse, before anything is sent, any API call that could change AWS.

It is registered on every botocore session the scanner creates, so it covers every client made
from it. An operation passes only if it is one the scanner needs, by exact name: the
collectors' reads, the few scanner calls below, and the credential calls botocore makes.
"""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel

from vpcaudit.aws.specs import SPECS
from vpcaudit.errors import MutatingCallRefused

# Calls that mint or refresh credentials and change no resource: role assumption, and the
# refresh of IAM Identity Center (SSO) and `aws login` sessions botocore makes by itself.
CREDENTIAL_CALLS = frozenset(
    {
        ("sts", "AssumeRole"),
        ("sts", "AssumeRoleWithWebIdentity"),
        ("sts", "AssumeRoleWithSAML"),
        ("sso", "GetRoleCredentials"),
        ("sso-oidc", "CreateToken"),
        ("signin", "CreateOAuth2Token"),
    }
)
# What the scanner itself calls besides the collectors' reads: who am I, which regions, which
# accounts of the Organization.
SCANNER_CALLS = frozenset(
    {
        ("sts", "GetCallerIdentity"),
        ("ec2", "DescribeRegions"),
        ("organizations", "DescribeOrganization"),
        ("organizations", "ListAccounts"),
    }
)


def scanner_operations() -> frozenset[tuple[str, str]]:
    """Every read the scanner makes: the collectors' specs and the calls above. The IAM
    policies in policies/iam/ grant exactly these (tests/test_iam_policy.py)."""
    return frozenset((spec.service, spec.operation) for spec in SPECS) | SCANNER_CALLS


# Exact names, not prefixes: some Get* calls mint credentials or return secrets
# (GetSecretValue, GetFederationToken, ...), and a prefix lets through whatever AWS adds next.
ALLOWED = scanner_operations() | CREDENTIAL_CALLS


def is_read_only(service: str, operation: str) -> bool:
    """True when the operation may be called by the scanner."""
    return (service, operation) in ALLOWED


def refuse_mutations(model: OperationModel, **_: Any) -> None:
    """Botocore event handler: raise MutatingCallRefused for any operation not allowed."""
    service = model.service_model.service_name
    if not is_read_only(service, model.name):
        raise MutatingCallRefused(
            f"read-only guard refused {service}:{model.name}: vpcaudit calls only the reads it "
            f"needs and never changes AWS resources"
        )


EVENT = "before-parameter-build"
HANDLER_ID = "vpcaudit-read-only-guard"


def install(events: Any) -> None:
    """Register the guard on a botocore event emitter (idempotent)."""
    events.register(EVENT, refuse_mutations, unique_id=HANDLER_ID)
