"""Which regions to scan: every region enabled for the account, opt-in aware."""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import botocore
import botocore.exceptions
import botocore.loaders
import botocore.session
from botocore.parsers import ResponseParserError

from vpcaudit.aws.session import ClientFactory, describe_failure, error_parts
from vpcaudit.errors import ConfigError
from vpcaudit.model import Gap

_REGION_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
ENABLED = frozenset({"opt-in-not-required", "opted-in"})


@dataclass(frozen=True)
class RegionPlan:
    """The regions to scan for one account, the ones skipped (with why), and any gap."""

    regions: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    gaps: tuple[Gap, ...]


def check_region_names(names: Sequence[str]) -> None:
    """Refuse names that cannot be AWS regions, before any API call."""
    for name in names:
        if not _REGION_NAME.match(name):
            raise ConfigError(f"unknown region {name!r} (expected a name like us-east-1)")


def check_home_region(profile: str | None) -> None:
    """Refuse a home region (AWS_REGION, AWS_DEFAULT_REGION, the profile's) that is not a
    region, before any API call: its STS call would time out after retries and blame the
    credentials. Checked against botocore's list, as no AWS call may be made yet."""
    for name, where in _home_regions(profile):
        known = _known_regions()
        if name in known:
            continue
        if not _REGION_NAME.match(name):
            raise ConfigError(
                f"unknown region {name!r} in {where} (expected a name like us-east-1)"
            )
        close = difflib.get_close_matches(name, sorted(known), n=2)
        guess = f"did you mean {' or '.join(close)}? " if close else ""
        raise ConfigError(
            f"unknown region {name!r} in {where} ({guess}a region newer than botocore "
            f"{botocore.__version__} needs a newer boto3)"
        )


def _home_regions(profile: str | None) -> Iterator[tuple[str, str]]:
    """Each home-region setting in force: (region, where it was set)."""
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(var):
            yield os.environ[var], var
    try:
        config = botocore.session.Session(profile=profile).get_scoped_config()
    except botocore.exceptions.BotoCoreError:
        return  # a missing profile is reported, by name, when the session is made
    if config.get("region"):
        name = profile or os.environ.get("AWS_PROFILE") or "default"
        yield str(config["region"]), f"the region of AWS profile {name!r}"


@functools.cache
def _known_regions() -> frozenset[str]:
    # botocore's endpoint data, read directly: a session would read AWS_PROFILE, and a
    # missing profile must be reported by name later, not crash this check.
    data = botocore.loaders.create_loader().load_data("endpoints")
    return frozenset(r for partition in data["partitions"] for r in partition.get("regions", {}))


def plan_regions(
    factory: ClientFactory,
    account_id: str,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> RegionPlan:
    """Ask EC2 which regions exist and are enabled, then apply --region/--exclude-region."""
    try:
        resp = factory.client("ec2").describe_regions(AllRegions=True)
    except botocore.exceptions.ClientError as exc:
        code, message = error_parts(exc)
        return _fallback(factory, account_id, include, code, message)
    except (botocore.exceptions.BotoCoreError, ResponseParserError) as exc:
        return _fallback(factory, account_id, include, type(exc).__name__, describe_failure(exc))
    status = {
        str(r["RegionName"]): str(r.get("OptInStatus") or "opt-in-not-required")
        for r in resp.get("Regions", [])
    }
    unknown = sorted((set(include) | set(exclude)) - set(status))
    if unknown:
        raise ConfigError(
            f"unknown region {unknown[0]!r}: not among the {len(status)} regions AWS lists"
        )
    wanted = [r for r in sorted(status) if not include or r in include]
    skipped: list[tuple[str, str]] = []
    regions: list[str] = []
    for name in wanted:
        if name in exclude:
            continue
        if status[name] not in ENABLED:
            skipped.append((name, f"not enabled for the account ({status[name]})"))
            continue
        regions.append(name)
    return RegionPlan(tuple(regions), tuple(skipped), ())


def _fallback(
    factory: ClientFactory, account_id: str, include: Sequence[str], code: str, message: str
) -> RegionPlan:
    """Without DescribeRegions, scan what was asked for (or the home region) and say so."""
    gap = Gap(
        account_id,
        factory.home_region,
        "ec2:DescribeRegions",
        code,
        f"{message} (enabled regions unknown: scanned only "
        f"{', '.join(include) if include else factory.home_region})",
    )
    return RegionPlan(tuple(include) or (factory.home_region,), (), (gap,))
