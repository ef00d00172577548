"""The paths a reachability intent is judged by: what kind of hop each one is (for `via`),
the path in one line, where it could be cut, and a group's answer restated for a member."""

from __future__ import annotations

import dataclasses
import re

from vpcaudit.network import Component, Hop, NetworkModel, PathAnswer

_ON_PREM_ATTACHMENTS = frozenset({"vpn", "direct-connect-gateway", "connect"})
_QUIET_KINDS = frozenset({"network-acl", "security-group", "subnet"})
"""Hop kinds left out of the one-line path in messages (the evidence keeps every hop)."""


class HopKinds:
    """What a hop is, for `via`: endpoint types by id and by interface, attachment types."""

    def __init__(self, model: NetworkModel) -> None:
        self.endpoint: dict[str, str] = {}
        self.endpoint_eni: dict[str, str] = {}
        for ep in model.endpoints.values():
            kind = ep.endpoint_type.lower()
            self.endpoint[ep.endpoint_id] = kind
            for eni in ep.network_interface_ids:
                self.endpoint_eni[eni] = kind
        self.attachment = {att: a.resource_type for (att, _), a in model.attachments.items()}

    def passes(self, answer: PathAnswer, via: str) -> bool:
        """Whether the forward path goes through a hop of that kind."""
        return any(self._is(h.component, via) for h in answer.forward)

    def _is(self, c: Component, via: str) -> bool:
        kind = c.kind
        if via in ("gateway-endpoint", "interface-endpoint"):
            want = via.partition("-")[0]
            return (kind == "vpc-endpoint" and self.endpoint.get(c.id) == want) or (
                kind == "network-interface" and self.endpoint_eni.get(c.id) == want
            )
        if via == "transit-gateway":
            return kind in ("transit-gateway-attachment", "transit-gateway-route-table")
        if via == "vpn":
            return kind == "vpn-gateway" or (
                kind == "transit-gateway-attachment"
                and self.attachment.get(c.id) in _ON_PREM_ATTACHMENTS
            )
        return kind == {
            "nat-gateway": "nat-gateway",
            "peering": "vpc-peering-connection",
            "internet-gateway": "internet-gateway",
        }.get(via)


def route_text(answer: PathAnswer) -> str:
    """The path in one line: route tables (with the route), gateways, attachments."""
    steps = []
    for h in answer.forward:
        c = h.component
        if c.kind in _QUIET_KINDS:
            continue
        steps.append(f"{c.id} ({c.rule})" if c.kind.endswith("route-table") and c.rule else c.id)
    return " -> ".join(dict.fromkeys(steps)) or "within the subnet"


def cut_points(answer: PathAnswer) -> str:
    points = []
    for h in answer.forward:
        c = h.component
        if c.kind.endswith("route-table") and c.rule:
            points.append(f"route {c.rule} in {c.id}")
        elif c.kind in ("vpc-peering-connection", "transit-gateway-attachment"):
            points.append(f"{c.kind} {c.id}")
    return ", ".join(dict.fromkeys(points)) or "the local route: the subnets share a VPC"


def restated_for(answer: PathAnswer, rep: str, member: str) -> PathAnswer:
    """The representative's answer restated for another subnet of its group."""
    rx = re.compile(rf"\b{re.escape(rep)}\b")

    def sub(text: str) -> str:
        return rx.sub(member, text)

    def comp(c: Component) -> Component:
        return dataclasses.replace(c, id=sub(c.id), detail=sub(c.detail))

    return dataclasses.replace(
        answer,
        source=member,
        source_address="",
        blocking=None if answer.blocking is None else comp(answer.blocking),
        explanation=sub(answer.explanation),
        fix=sub(answer.fix),
        forward=tuple(Hop(comp(h.component), sub(h.action)) for h in answer.forward),
        return_path=(),
    )
