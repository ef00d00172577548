"""The shapes of AWS identifiers and values, written down once.

Each check takes a raw value from a snapshot and returns what is wrong with it (a short
phrase such as "not a VPC id"), or None when it has the shape AWS documents.

Sources:
- EC2 resource ids are a type prefix and a hyphen, then 8 (before 2016) or 17 lowercase
  hexadecimal characters ("Resource IDs", Amazon EC2 User Guide, resource-ids.html; the
  `ModifyIdFormat` API lists the types that moved to 17). The prefixes are those of the EC2 API
  reference (DescribeVpcs ... DescribeAddresses) and of moto's `EC2_RESOURCE_TO_PREFIX`.
- Account ids are 12 digits (botocore's `AccountID` shape, pattern `[0-9]{12}`).
- Region names: `^[a-z]{2}(-[a-z]+)+-\\d+$` (us-east-1, us-gov-west-1, cn-north-1, ...).
- ARNs: `arn:partition:service:region:account:resource` (IAM User Guide, "IAM identifiers").
- VPC endpoint service names: `com.amazonaws.<region>.<service>`, `com.amazonaws.vpce.<region>.
  vpce-svc-<hex>` for PrivateLink services, and a few others (`aws.sagemaker.<region>.notebook`,
  `com.amazonaws.s3-global.accesspoint`): dotted lowercase labels.
- CloudWatch Logs group names: `[\\.\\-_/#A-Za-z0-9]+`, 1 to 512 characters (CreateLogGroup).

What is enforced for ids is the prefix and the alphabet (lowercase letters, digits, and
hyphen-separated parts), not the exact 8/17 length: AWS changed the length once and says
systems must not depend on it, and a length check adds no safety. The alphabet is what keeps
an id inert in a shell, a URL, Markdown and a terminal; what else passes is quoted where used
(vpcaudit.awscli.q).
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import re
from collections.abc import Callable
from typing import Any

from vpcaudit.inventory.models import _net

Check = Callable[[Any], str | None]
"""A value check: None when the value is well formed, else what it is not."""

# The id prefixes, by what they name. "tgw-" also begins tgw-attach- and tgw-rtb- ids:
# a field that takes a route table id asks for "tgw-rtb-" itself.
PREFIXES: dict[str, str] = {
    "vpc": "vpc-",
    "subnet": "subnet-",
    "route table": "rtb-",
    "peering connection": "pcx-",
    "VPC endpoint": "vpce-",
    "Transit Gateway": "tgw-",
    "Transit Gateway attachment": "tgw-attach-",
    "Transit Gateway route table": "tgw-rtb-",
    "security group": "sg-",
    "network ACL": "acl-",
    "network interface": "eni-",
    "internet gateway": "igw-",
    "NAT gateway": "nat-",
    "egress-only internet gateway": "eigw-",
    "virtual private gateway": "vgw-",
    "customer gateway": "cgw-",
    "VPN connection": "vpn-",
    "prefix list": "pl-",
    "flow log": "fl-",
    "Elastic IP allocation": "eipalloc-",
    "Elastic IP association": "eipassoc-",
    "instance": "i-",
    "launch template": "lt-",
    "carrier gateway": "cagw-",
    "local gateway": "lgw-",
}

MAX_ID_LENGTH = 96
"""Far above any AWS id (17 + the longest prefix), low enough to keep messages short."""

_SUFFIX = r"[0-9a-z]+(?:-[0-9a-z]+)*"
_TOKEN = re.compile(_SUFFIX)
_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]+")
_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:[a-z0-9-]+:(?:[a-z]{2}(?:-[a-z]+)+-[0-9]+)?:(?:[0-9]+|aws)?:"
    r"[^\x00-\x1f\x7f]+"
)
_SERVICE_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+")
_LOG_GROUP = re.compile(r"[._/#A-Za-z0-9-]{1,512}")


def _bulk(pattern: re.Pattern[str], max_length: int) -> Callable[[set[str]], bool]:
    """Whether every one of a set of strings matches `pattern` (fully, within max_length), in
    one pass over them joined by newlines: True is exact; False means "check one by one"."""
    # The patterns match no newline, so with exactly len-1 newlines in the joined text each
    # newline-separated part is one of the strings, and the whole matches only if each does.
    joined = re.compile(f"(?:{pattern.pattern})(?:\\n(?:{pattern.pattern}))*")

    def bulk(values: set[str]) -> bool:
        if not values:
            return True
        text = "\n".join(values)
        return (
            max(map(len, values)) <= max_length
            and text.count("\n") == len(values) - 1
            and joined.fullmatch(text) is not None
        )

    return bulk


def aws_id(*kinds: str) -> Check:
    """A check for an id of one of these kinds (keys of PREFIXES): the id alphabet, any length
    up to MAX_ID_LENGTH (see the module doc for why the prefix and length are not required)."""
    prefixes = ", ".join(PREFIXES[k] + "..." for k in kinds)
    pattern = _TOKEN
    what = f"not a{'n' if kinds[0][0] in 'aeiouAEIOU' else ''} {' or '.join(kinds)} id ({prefixes})"

    def check(value: Any) -> str | None:
        if type(value) is str and len(value) <= MAX_ID_LENGTH and pattern.fullmatch(value):
            return None
        return what

    check.bulk = _bulk(pattern, MAX_ID_LENGTH)  # type: ignore[attr-defined]
    return check


def _matches(pattern: re.Pattern[str], what: str, max_length: int = MAX_ID_LENGTH) -> Check:
    def check(value: Any) -> str | None:
        if type(value) is str and len(value) <= max_length and pattern.fullmatch(value):
            return None
        return what

    check.bulk = _bulk(pattern, max_length)  # type: ignore[attr-defined]
    return check


ACCOUNT_ID = _matches(_ACCOUNT, "not an account id (12 digits)")
REGION_NAME = _matches(_REGION, "not a region name")
TOKEN = _matches(_TOKEN, "not an id or name of lowercase letters, digits and hyphens")
"""Lowercase letters and digits in hyphen-separated parts: zones, ids of any kind."""
SERVICE_NAME = _matches(_SERVICE_NAME, "not an endpoint service name", 255)
LOG_GROUP_NAME = _matches(_LOG_GROUP, "not a log group name", 512)
ARN = _matches(_ARN, "not an ARN", 2048)


def one_of(*checks: Check, what: str) -> Check:
    """A check that passes when any of `checks` does."""

    def check(value: Any) -> str | None:
        return None if any(c(value) is None for c in checks) else what

    return check


def literal(*values: str) -> Check:
    """A check that passes for exactly these strings (e.g. "local", "AWS")."""

    def check(value: Any) -> str | None:
        return None if type(value) is str and value in values else f"not {' or '.join(values)}"

    return check


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_CIDR = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}/(?:3[0-2]|[12]?[0-9])")
"""The canonical IPv4 block: every string it matches, ipaddress accepts too."""


def cidr(value: Any) -> str | None:
    """Check an IPv4 or IPv6 CIDR block."""
    if type(value) is not str:
        return "not a CIDR block"
    # A route's /32 is seen once: the pattern spares parsing it (and the parser's cache);
    # anything else goes to the models' cached parser, which the inventory uses right after.
    if _IPV4_CIDR.fullmatch(value) or _net(value) is not None:
        return None
    return "not a CIDR block"


cidr.bulk = _bulk(_IPV4_CIDR, 18)  # type: ignore[attr-defined]


def ip_address(value: Any) -> str | None:
    """Check an IPv4 or IPv6 address."""
    return None if type(value) is str and _is_ip(value) else "not an IP address"


# Cached: the same addresses recur, and ipaddress parses slowly.
@functools.lru_cache(maxsize=65536)
def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def timestamp(value: Any) -> str | None:
    """Check an ISO 8601 timestamp as a snapshot stores it."""
    if type(value) is str:
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return None
        except ValueError:
            pass
    return "not a timestamp"


def text(value: Any) -> str | None:
    """Check free text (a name, a description): any string, escaped wherever it is shown."""
    return None if type(value) is str else "not a string"


def boolean(value: Any) -> str | None:
    """Check a JSON boolean: "false" as a string would read as true."""
    return None if type(value) is bool else "not a boolean"


def integer(low: int, high: int) -> Check:
    """A check for an integer (not a boolean) in [low, high]."""

    def check(value: Any) -> str | None:
        if type(value) is int and low <= value <= high:
            return None
        return f"not an integer from {low} to {high}"

    return check


def shown(value: Any, limit: int = 60) -> str:
    """A value for a message: repr (so control characters are escaped), cut to ~limit."""
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."
