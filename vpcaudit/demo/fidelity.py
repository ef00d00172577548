"""A small fidelity layer over moto, for the demo and the tests only.

moto omits some fields real EC2 returns. Rather than weaken the tool, this layer adds them back
on the client side, after moto has answered and before the scanner sees the response, through a
botocore `after-call` handler on the demo's sessions. What it fixes:

- DescribeVpcPeeringConnections: moto sets no ExpirationTime on pending-acceptance requests.
  Real EC2 sets it to 7 days after the request was made; the layer does the same from the
  creation times the seeding code recorded. A request it has no creation time for keeps no
  ExpirationTime, as an old or foreign request might, so the tool's "expiry unknown" path runs.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3

PENDING_LIFETIME = dt.timedelta(days=7)


@dataclass
class MotoFidelity:
    """Facts moto does not keep, recorded at seeding time and replayed into responses."""

    peering_created_at: dict[str, dt.datetime] = field(default_factory=dict)
    failed_peerings: dict[str, str] = field(default_factory=dict)
    deleted_peerings: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_peering(self, peering_id: str, created_at: dt.datetime) -> None:
        """Remember when a peering request was made (it may be back-dated for the demo)."""
        with self._lock:
            self.peering_created_at[peering_id] = created_at

    def fail_peering(self, peering_id: str, message: str) -> None:
        """Report a request as failed, as EC2 does for overlapping CIDR blocks."""
        with self._lock:
            self.failed_peerings[peering_id] = message

    def record_deleted_peering(self, peering_id: str) -> None:
        """Routes to this deleted peering will read as blackhole, as in EC2."""
        with self._lock:
            self.deleted_peerings.add(peering_id)

    def _routes(self, parsed: dict[str, Any], **_: Any) -> None:
        for table in parsed.get("RouteTables", []):
            for route in table.get("Routes", []):
                if route.get("VpcPeeringConnectionId") in self.deleted_peerings:
                    route["State"] = "blackhole"

    def _peerings(self, parsed: dict[str, Any], **_: Any) -> None:
        for pcx in parsed.get("VpcPeeringConnections", []):
            failed = self.failed_peerings.get(pcx.get("VpcPeeringConnectionId", ""))
            if failed is not None:
                pcx["Status"] = {"Code": "failed", "Message": failed}
            status = (pcx.get("Status") or {}).get("Code")
            created = self.peering_created_at.get(pcx.get("VpcPeeringConnectionId", ""))
            if status == "pending-acceptance" and created and "ExpirationTime" not in pcx:
                pcx["ExpirationTime"] = created + PENDING_LIFETIME

    def install(self, session: boto3.Session) -> None:
        """Register the layer on a boto3 session (use as ScanOptions.session_hook)."""
        session.events.register(
            "after-call.ec2.DescribeVpcPeeringConnections",
            self._peerings,
            unique_id="vpcaudit-moto-fidelity-peerings",
        )
        session.events.register(
            "after-call.ec2.DescribeRouteTables",
            self._routes,
            unique_id="vpcaudit-moto-fidelity-routes",
        )
