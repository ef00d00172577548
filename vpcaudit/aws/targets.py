"""Which accounts to scan, and with which credentials: the caller, roles, or an Organization."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.credentials
import botocore.exceptions
import botocore.session

from vpcaudit.aws.session import ClientFactory, SessionHook, error_parts
from vpcaudit.errors import ConfigError, CredentialsError

_ROLE_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role/[\w+=,.@/-]+$")
_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class AccountSpec:
    """An account to scan and how to reach it: the base credentials, or a role to assume."""

    account_id: str
    name: str
    role_arn: str | None
    """None: use the caller's own credentials."""


@dataclass(frozen=True)
class RoleOptions:
    """How roles are assumed: external id, session name, credential lifetime."""

    external_id: str | None = None
    session_name: str = "vpcaudit"
    duration_seconds: int | None = None


def account_of_role(role_arn: str) -> str:
    """The account id in a role ARN, or a ConfigError naming the bad ARN."""
    m = _ROLE_ARN.match(role_arn)
    if m is None:
        raise ConfigError(
            f"--role-arn {role_arn!r} is not an IAM role ARN (arn:aws:iam::<12 digits>:role/NAME)"
        )
    return m[2]


def check_account_ids(ids: Sequence[str], flag: str) -> None:
    """Refuse anything that is not a 12-digit account id."""
    for a in ids:
        if not _ACCOUNT.match(a):
            raise ConfigError(f"{flag} {a!r} is not a 12-digit AWS account id")


@dataclass(frozen=True)
class OrgAccounts:
    """An Organization's accounts as ListAccounts gives them."""

    management_account_id: str
    accounts: tuple[tuple[str, str, str], ...]
    """(id, name, state) of every member, ACTIVE or not."""


def list_org_accounts(base: ClientFactory) -> OrgAccounts:
    """Enumerate the Organization (management or delegated-admin credentials needed)."""
    org = base.client("organizations")
    try:
        mgmt = str(org.describe_organization()["Organization"]["MasterAccountId"])
        accounts: list[tuple[str, str, str]] = []
        for page in org.get_paginator("list_accounts").paginate():
            for a in page.get("Accounts", []):
                # ListAccounts is moving from Status to State; read whichever is present.
                state = str(a.get("State") or a.get("Status") or "ACTIVE").upper()
                accounts.append((str(a["Id"]), str(a.get("Name", "")), state))
    except botocore.exceptions.ClientError as exc:
        code, message = error_parts(exc)
        raise ConfigError(
            f"cannot list the Organization's accounts ({code}): {message}; --org needs "
            f"management or delegated-administrator credentials"
        ) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise ConfigError(f"cannot list the Organization's accounts: {exc}") from None
    return OrgAccounts(mgmt, tuple(sorted(accounts)))


def org_specs(
    org: OrgAccounts,
    caller: str,
    role_name: str,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    include_management: bool = False,
    partition: str = "aws",
) -> list[AccountSpec]:
    """The ACTIVE member accounts to scan, filtered, each reached through role_name."""
    specs = []
    for account_id, name, state in org.accounts:
        if state != "ACTIVE" or account_id in exclude or (include and account_id not in include):
            continue
        if account_id == org.management_account_id and not include_management:
            continue
        role = None if account_id == caller else role_arn_for(account_id, role_name, partition)
        specs.append(AccountSpec(account_id, name, role))
    return specs


def unscannable(
    org: OrgAccounts,
    include: Sequence[str],
    include_management: bool,
    exclude: Sequence[str] = (),
) -> list[tuple[str, str]]:
    """Accounts an --org scan will not read, and why: those named with --accounts that
    cannot be, and the management account when it is left out by default."""
    states = {a: state for a, _, state in org.accounts}
    out = []
    for account_id in include:
        if account_id not in states:
            out.append((account_id, "not a member of the Organization"))
        elif states[account_id] != "ACTIVE":
            out.append((account_id, f"account is {states[account_id]}, not ACTIVE"))
        elif account_id == org.management_account_id and not include_management:
            out.append((account_id, MANAGEMENT_SKIPPED))
    # Left out by default, the management account is said too: "complete" must not hide it.
    mgmt = org.management_account_id
    if (
        not include
        and not include_management
        and mgmt
        and states.get(mgmt) == "ACTIVE"
        and mgmt not in exclude
    ):
        out.append((mgmt, MANAGEMENT_SKIPPED))
    return out


MANAGEMENT_SKIPPED = "management account, not scanned by default (add --org-include-management)"


def role_arn_for(account_id: str, role_name: str, partition: str = "aws") -> str:
    """The ARN of a role by name in an account."""
    return f"arn:{partition}:iam::{account_id}:role/{role_name}"


class _RoleProvider(botocore.credentials.CredentialProvider):
    """Credentials from sts:AssumeRole that refresh themselves before they expire."""

    METHOD = "vpcaudit-assume-role"

    def __init__(self, fetcher: botocore.credentials.AssumeRoleCredentialFetcher) -> None:
        self._fetcher = fetcher

    def load(self) -> botocore.credentials.DeferredRefreshableCredentials:
        return botocore.credentials.DeferredRefreshableCredentials(
            refresh_using=self._fetcher.fetch_credentials, method=self.METHOD
        )


def assume_role_session(
    base: ClientFactory, role_arn: str, opts: RoleOptions, hook: SessionHook | None = None
) -> boto3.Session:
    """A session on a role's credentials, which refresh during a long scan.

    AssumeRole is called through the base session (so its guard and call counter see it), in
    the base session's home region: regional STS endpoints issue tokens valid in every region,
    opt-in regions included.
    """
    source = base.session.get_credentials()
    if source is None:
        raise CredentialsError("no AWS credentials found to assume roles with")

    def sts_client(service: str, **kwargs: Any) -> Any:
        return base.new_client(service, **kwargs)

    extra: dict[str, Any] = {"RoleSessionName": opts.session_name}
    if opts.external_id:
        extra["ExternalId"] = opts.external_id
    if opts.duration_seconds:
        extra["DurationSeconds"] = opts.duration_seconds
    fetcher = botocore.credentials.AssumeRoleCredentialFetcher(
        client_creator=sts_client, source_credentials=source, role_arn=role_arn, extra_args=extra
    )
    core = botocore.session.Session()
    core.register_component(
        "credential_provider", botocore.credentials.CredentialResolver([_RoleProvider(fetcher)])
    )
    # Share the base session's model loader: otherwise every account parses and keeps its own
    # copy of the EC2 service model (measured: 4x the CPU and ~3 MB per client in bench/).
    core.register_component("data_loader", base.session._session.get_component("data_loader"))
    core.set_config_variable("sts_regional_endpoints", "regional")
    session = boto3.Session(botocore_session=core, region_name=base.home_region)
    if hook is not None:
        hook(session)
    return session
