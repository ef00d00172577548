"""Value types shared by the pipeline: severities, coverage gaps, resources and findings."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from vpcaudit.quickinit import quick_init


class Severity(enum.StrEnum):
    """How urgent a finding is; ordered from most to least severe."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is more severe: info 0 .. critical 4."""
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity name (any case) or raise ValueError naming the valid ones."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None


_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


@dataclass(frozen=True, order=True)
class Gap:
    """Something the scan could not read: a region, an operation, or a whole account."""

    account_id: str
    """Account that was being read ("" when not yet known)."""
    region: str
    """Region that was being read ("*" for an account-wide failure such as a role assumption)."""
    operation: str
    """API operation that failed, e.g. ec2:DescribeFlowLogs or sts:AssumeRole."""
    error_code: str
    """AWS error code (AccessDenied, UnauthorizedOperation, ...) or a client-side failure name."""
    message: str
    """The error message as AWS or botocore gave it."""

    def to_dict(self) -> dict[str, str]:
        """Return the JSON form used in snapshots and reports."""
        return {
            "account_id": self.account_id,
            "region": self.region,
            "operation": self.operation,
            "error_code": self.error_code,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Gap:
        """Read the JSON form written by to_dict."""
        return cls(
            account_id=str(data["account_id"]),
            region=str(data["region"]),
            operation=str(data["operation"]),
            error_code=str(data["error_code"]),
            message=str(data["message"]),
        )


@quick_init
@dataclass(frozen=True)
class ResourceRef:
    """Where a finding points: one AWS resource in one account and region."""

    account_id: str
    region: str
    resource_type: str
    """Short kebab-case type: vpc, vpc-peering-connection, vpc-endpoint, route-table, ..."""
    resource_id: str
    arn: str
    tags: tuple[tuple[str, str], ...] = ()
    """The resource's tags, sorted, for waivers that match on tags."""


@quick_init
@dataclass(frozen=True)
class Violation:
    """What a rule yields: a resource, what is wrong with it, and the evidence."""

    resource: ResourceRef
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    remediation: str = ""
    severity: Severity | None = None
    """A rule may grade its own finding (e.g. by time to expiry); None means the rule default."""
    discriminator: str = ""
    """Separates several findings of one rule on one resource (e.g. the side of a peering)."""


@quick_init
@dataclass(frozen=True)
class Unverifiable:
    """A check a rule could not decide because part of the picture was not scanned."""

    resource: ResourceRef
    reason: str


@quick_init
@dataclass(frozen=True)
class Finding:
    """A violation stamped by the evaluator with rule id, severity and a stable fingerprint."""

    rule_id: str
    severity: Severity
    resource: ResourceRef
    message: str
    evidence: dict[str, Any]
    remediation: str
    fingerprint: str
    suppressed: bool = False
    waiver: dict[str, Any] | None = None

    def sort_key(self) -> tuple[int, str, str, str, str, str]:
        """Most severe first, then a total order so reports are byte-stable."""
        r = self.resource
        return (
            -self.severity.rank,
            self.rule_id,
            r.account_id,
            r.region,
            r.resource_id,
            self.fingerprint,
        )
