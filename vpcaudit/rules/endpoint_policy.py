"""endpoint-policy-full-access: endpoint policies that allow everything, read with their Deny
statements (a data perimeter restricts them; a Deny on the endpoint's own VPC does not)."""

from __future__ import annotations

import json
import re
from typing import Any

from vpcaudit.inventory import Endpoint, Inventory
from vpcaudit.model import Severity, Violation
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import cli, endpoint_live, endpoint_ref, q

# Condition keys that bound a policy to an organization or account: a Deny of everything
# outside them (the data perimeter) restricts an Allow of everything.
_PERIMETER_KEYS = frozenset(
    {
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:resourceorgid",
        "aws:resourceorgpaths",
        "aws:resourceaccount",
    }
)
# Keys whose value is fixed in an endpoint's own policy: every request through the endpoint
# comes through this endpoint (aws:SourceVpce) and so through its VPC (aws:SourceVpc).
_SELF_KEYS = {
    "aws:sourcevpc": "aws:SourceVpc",
    "aws:sourcevpce": "aws:SourceVpce",
    "aws:sourcevpcarn": "aws:SourceVpcArn",
}
# An AWS service's action prefix in its endpoint name: s3, dynamodb, ecr (ecr.api), ...
_ACTION_PREFIX = re.compile(r"^(?:cn\.)?com\.amazonaws\.[a-z0-9-]+\.(?P<prefix>[a-z0-9-]+)")


@rule(
    id="endpoint-policy-full-access",
    title="Endpoint policy allows everything",
    severity=Severity.LOW,
    area="endpoints",
    rationale="""
        An endpoint policy is a guardrail on what can pass through the endpoint. The default
        policy allows every action by every principal on every resource, so the endpoint
        also carries traffic to other organizations' buckets and tables, the path data
        exfiltration takes. Restricting it (to the organization's principals and resources,
        e.g. with aws:PrincipalOrgID and aws:ResourceOrgID, in the Allow's condition or in a
        Deny of everything outside them) closes that path. In an endpoint's own policy
        aws:SourceVpc is always the endpoint's VPC and aws:SourceVpce the endpoint itself, so
        conditions on them restrict nothing: an Allow conditioned only on them is still full
        access, and a Deny for "any other VPC" never applies. Some services do not support
        endpoint policies; their findings can be waived.
    """,
    remediation="Attach a policy limited to your organization's principals and resources "
    "(aws ec2 modify-vpc-endpoint --policy-document).",
    evidence=("service", "endpoint_type", "statement"),
    params=NoParams,
    legitimate=(
        """An Allow of everything beside a Deny of every action by principals outside
        aws:PrincipalOrgID, aws:PrincipalOrgPaths or aws:PrincipalAccount, or on resources
        outside aws:ResourceOrgID, aws:ResourceOrgPaths or aws:ResourceAccount (the data
        perimeter pattern): it is restricted.""",
        """An Allow with any condition other than one on aws:SourceVpc, aws:SourceVpcArn or
        aws:SourceVpce matching the endpoint itself, or limited to some principals, actions
        or resources.""",
        """Gateway Load Balancer, resource and service-network endpoints, which take no
        endpoint policy, and endpoints that are gone.""",
    ),
)
def policy_full_access(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag endpoints whose policy allows * to * on * and restricts it nowhere."""
    del params
    for ep in inv.endpoints:
        if (
            ep.endpoint_type.lower() not in ("interface", "gateway")
            or not endpoint_live(ep)
            or not ep.policy_document
        ):
            continue
        found = _unrestricted(ep)
        if found is None:
            continue
        statement, ineffective = found
        note = (
            f" Its Deny on {', '.join(ineffective)} never applies: in an endpoint policy "
            f"aws:SourceVpc is always the endpoint's own VPC ({ep.vpc_id}) and aws:SourceVpce "
            f"the endpoint itself."
            if ineffective
            else ""
        )
        yield Violation(
            resource=endpoint_ref(ep),
            message=(
                f"Endpoint {ep.endpoint_id} ({ep.service_name}) has a policy allowing every "
                f"action by any principal on any resource.{note}"
            ),
            evidence={
                "service": ep.service_name,
                "endpoint_type": ep.endpoint_type,
                "statement": statement,
            },
            remediation=cli(
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {q(ep.endpoint_id)} "
                f"--policy-document file://endpoint-policy.json",
                ep.region,
                ep.account_id,
            ),
        )


def _star(value: Any) -> bool:
    if isinstance(value, list):
        return "*" in value
    if isinstance(value, dict):
        return any(_star(v) for v in value.values())
    return bool(value == "*")


def _statements(document: str) -> list[dict[str, Any]] | None:
    try:
        doc = json.loads(document)
    except json.JSONDecodeError:
        return None
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    statements = statements if isinstance(statements, list) else [statements]
    return [st for st in statements if isinstance(st, dict)]


def _unrestricted(ep: Endpoint) -> tuple[dict[str, Any], list[str]] | None:
    """The statement allowing everything, with the Deny keys that restrict nothing, when no
    Deny restricts it; None when the policy is restricted (or unreadable)."""
    statements = _statements(ep.policy_document)
    if statements is None:
        return None
    full = next(
        (
            st
            for st in statements
            if st.get("Effect") == "Allow"
            and _star(st.get("Principal"))
            and _star(st.get("Action"))
            and _star(st.get("Resource"))
            and _always_true(st.get("Condition"), ep)
        ),
        None,
    )
    if full is None:
        return None
    ineffective: list[str] = []
    for st in statements:
        if st.get("Effect") != "Deny":
            continue
        verdict = _deny_verdict(st, ep)
        if verdict == "restricts":
            return None
        if verdict.startswith("never:"):
            ineffective.append(verdict.removeprefix("never:"))
    return full, sorted(set(ineffective))


def _clauses(condition: Any) -> list[tuple[str, str, list[str]]]:
    """(operator, key in lower case, values) of a Condition block."""
    out: list[tuple[str, str, list[str]]] = []
    if not isinstance(condition, dict):
        return out
    for op, block in condition.items():
        if not isinstance(block, dict):
            continue
        for key, value in block.items():
            values = value if isinstance(value, list) else [value]
            out.append((str(op), str(key).lower(), [str(v) for v in values]))
    return out


def _self_value(ep: Endpoint, key: str) -> str:
    """What a fixed-value key equals for requests through this endpoint."""
    if key == "aws:sourcevpce":
        return ep.endpoint_id
    return ep.vpc_id  # aws:SourceVpc, and the tail of aws:SourceVpcArn


def _matches_self(ep: Endpoint, op: str, key: str, values: list[str]) -> bool:
    """Whether the clause's values name the endpoint's own VPC (or endpoint): equal, the
    tail of an ARN, or a wildcard for a Like operator."""
    own = _self_value(ep, key)
    like = "like" in op.lower()
    return any(v == own or v.endswith("/" + own) or (like and v == "*") for v in values)


def _always_true(condition: Any, ep: Endpoint) -> bool:
    """Whether a condition holds for every request through the endpoint: none at all, or
    only aws:SourceVpc / aws:SourceVpce equal to the endpoint's own."""
    if not condition:
        return True
    positive = ("stringequals", "stringlike", "arnequals", "arnlike")
    clauses = _clauses(condition)
    return bool(clauses) and all(
        key in _SELF_KEYS
        and op.lower().removesuffix("ifexists") in positive
        and _matches_self(ep, op, key, values)
        for op, key, values in clauses
    )


def _deny_verdict(st: dict[str, Any], ep: Endpoint) -> str:
    """What a Deny does to an Allow of everything: "restricts" when it bounds every request
    to the organization or account (or denies everything), "never:<key>" when a clause on a
    fixed-value key makes it never apply, "" otherwise."""
    if not (_star(st.get("Principal")) and _all_actions(st.get("Action"), ep)):
        return ""
    if not _star(st.get("Resource")):
        return ""
    clauses = _clauses(st.get("Condition"))
    if not st.get("Condition"):
        return "restricts"  # a Deny of everything: nothing passes
    perimeter = False
    for op, key, values in clauses:
        negated = "not" in op.lower()
        if key in _SELF_KEYS and negated and _matches_self(ep, op, key, values):
            return f"never:{_SELF_KEYS[key]}"
        if key in _PERIMETER_KEYS and negated:
            perimeter = True
    return "restricts" if perimeter else ""


def _all_actions(action: Any, ep: Endpoint) -> bool:
    """Whether a Deny's Action covers every action through the endpoint: * or <service>:*."""
    m = _ACTION_PREFIX.match(ep.service_name)
    prefix = m["prefix"] if m else "*"
    actions = action if isinstance(action, list) else [action]
    return any(str(a) == "*" or str(a).lower() == f"{prefix}:*" for a in actions)


POLICY_FULL_ACCESS = policy_full_access
