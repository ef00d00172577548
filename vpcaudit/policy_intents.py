"""Reachability intents: the policy's `intents:` section, its schema and its checks.

An intent states what must (or must not) be reachable: `from` a set of subnets (or the
internet, on-premises) `to` a set of subnets (or the internet, on-premises, S3, DynamoDB),
optionally for one protocol and port and through a kind of hop (`via`). The rule
`reachability-intent` (vpcaudit/rules/intents.py) checks them over the network model; this
module only reads and validates them, before any AWS call. See docs/intents.md.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vpcaudit.errors import ConfigError
from vpcaudit.model import Severity
from vpcaudit.rules.base import SECTION_FIELD

__all__ = ["SECTION_FIELD"]

EXPECTS = ("reachable", "unreachable")
PROTOCOLS = ("tcp", "udp", "icmp", "all")
VIA = (
    "gateway-endpoint",
    "interface-endpoint",
    "nat-gateway",
    "transit-gateway",
    "peering",
    "internet-gateway",
    "vpn",
)
OUTSIDE = ("internet", "on-premises")
"""Keywords that may be a source or a destination."""
SERVICES = ("s3", "dynamodb")
"""Keywords that may only be a destination (optionally `@region`)."""
SELECTOR_KEYS = ("account", "region", "vpc", "subnet", "cidr", "tag")
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d"
KEYWORD_PATTERN = rf"^(?:internet|on-premises|(?:s3|dynamodb)(?:@{_REGION})?)$"
_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


@dataclass(frozen=True)
class Selector:
    """One end of an intent: a keyword, or subnets that match every key given."""

    keyword: str = ""
    """internet, on-premises, s3, dynamodb or s3@region / dynamodb@region ("" for subnets)."""
    accounts: tuple[str, ...] = ()
    """The subnet's owner, or an account it is shared with, is one of these."""
    regions: tuple[str, ...] = ()
    """Globs over the subnet's region."""
    vpcs: tuple[str, ...] = ()
    subnets: tuple[str, ...] = ()
    cidrs: tuple[str, ...] = ()
    """The subnet's CIDR lies within one of these (a destination with no subnet inside is an
    address in the range: on-premises or the internet)."""
    tags: tuple[tuple[str, str], ...] = ()
    """Each (key, value glob) is on the subnet, or on its VPC when the subnet lacks the key."""

    def describe(self) -> str:
        """Short text: `s3`, `tag env=prod, account 111122223333`."""
        if self.keyword:
            return self.keyword
        parts = [
            *(f"account {a}" for a in self.accounts),
            *(f"region {r}" for r in self.regions),
            *self.vpcs,
            *self.subnets,
            *(f"cidr {c}" for c in self.cidrs),
            *(f"tag {k}={v}" for k, v in self.tags),
        ]
        return ", ".join(parts)

    def to_dict(self) -> Any:
        """The JSON form (evidence): the keyword, or the keys given."""
        if self.keyword:
            return self.keyword
        out: dict[str, Any] = {}
        for key, values in (
            ("account", self.accounts),
            ("region", self.regions),
            ("vpc", self.vpcs),
            ("subnet", self.subnets),
            ("cidr", self.cidrs),
        ):
            if values:
                out[key] = list(values)
        if self.tags:
            out["tag"] = dict(self.tags)
        return out


@dataclass(frozen=True)
class Intent:
    """What must, or must not, be reachable, as the policy states it."""

    name: str
    source: Selector
    destination: Selector
    expect: str
    """reachable or unreachable."""
    protocol: str = "all"
    port: int | None = None
    via: tuple[str, ...] = ()
    """Kinds of hop a reachable path must pass through (every one of them)."""
    severity: Severity | None = None
    """Replaces the rule's grading (high for unreachable, medium for reachable) for this intent."""
    description: str = ""
    where: str = ""
    """file:line where the intent was written."""


# -- schema ------------------------------------------------------------------------------------


def _one_or_many(pattern: str) -> dict[str, Any]:
    item = {"type": "string", "pattern": pattern}
    return {
        "type": ["string", "array"],
        "pattern": pattern,
        "minItems": 1,
        "items": item,
    }


SELECTOR_SCHEMA: dict[str, Any] = {
    # A keyword (string) or a mapping of selector keys; `pattern` applies to strings only and
    # the object keywords to mappings only, so one schema gives one readable error.
    "type": ["string", "object"],
    "pattern": KEYWORD_PATTERN,
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "account": _one_or_many(r"^\d{12}$"),
        "region": _one_or_many(r"^\S+$"),
        "vpc": _one_or_many(r"^vpc-\S+$"),
        "subnet": _one_or_many(r"^subnet-\S+$"),
        "cidr": _one_or_many(r"^[0-9A-Fa-f:.]+/\d{1,3}$"),
        "tag": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"type": "string"},
        },
    },
}

INTENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "from", "to", "expect"],
    "properties": {
        "name": {"type": "string", "pattern": _NAME_PATTERN},
        "description": {"type": "string"},
        "from": SELECTOR_SCHEMA,
        "to": SELECTOR_SCHEMA,
        "expect": {"enum": list(EXPECTS)},
        "protocol": {"enum": list(PROTOCOLS)},
        "port": {"type": "integer", "minimum": 0, "maximum": 65535},
        "via": {
            "type": ["string", "array"],
            "pattern": "^(?:" + "|".join(VIA) + ")$",
            "minItems": 1,
            "items": {"enum": list(VIA)},
        },
        "severity": {"enum": [s.value for s in Severity]},
    },
}


def intent_label(doc: Any, index: Any) -> str:
    """`intent 'name'` (or `intent #N` before it has a valid name), for error messages."""
    items = doc.get("intents") if isinstance(doc, dict) else None
    if isinstance(items, list) and isinstance(index, int) and index < len(items):
        item = items[index]
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and name:
            return f"intent {name!r}"
    return f"intent #{index + 1 if isinstance(index, int) else index}"


def schema_message(path: Sequence[str | int], validator: str, instance: Any, doc: Any) -> str:
    """A readable message for a schema error inside `intents:` (path starts with it)."""
    if len(path) < 2:
        return f"intents: {_plain(validator, instance, 'a list of intents')}"
    label = intent_label(doc, path[1])
    rest = [str(p) for p in path[2:]]
    key = rest[0] if rest else ""
    if validator == "required":
        return f"{label} has no {instance} (every intent has a name, from, to and expect)"
    if key in ("from", "to"):
        return f"{label}: {key}: {_selector_message(rest, validator, instance)}"
    severities = ", ".join(s.value for s in Severity)
    fixed = {
        "via": f"via {instance!r} is not a kind of hop (one or a list of: {', '.join(VIA)})",
        "expect": f"expect {instance!r} is not one of: {', '.join(EXPECTS)}",
        "protocol": f"protocol {instance!r} is not one of: {', '.join(PROTOCOLS)}",
        "port": f"port {instance!r} is not a port number (0-65535)",
        "name": f"name {instance!r} must be letters, digits, '.', '_' or '-' (it names the "
        f"intent in findings and waivers)",
        "severity": f"severity {instance!r} is not one of: {severities}",
        "description": f"description {instance!r} is not text",
    }
    if key in fixed:
        return f"{label}: {fixed[key]}"
    return f"{label}: {key or 'the intent'}: {_plain(validator, instance, 'a mapping')}"


def _selector_message(rest: list[str], validator: str, instance: Any) -> str:
    keywords = "internet, on-premises, s3, dynamodb (s3@REGION, dynamodb@REGION)"
    keys = ", ".join(SELECTOR_KEYS)
    key = rest[1] if len(rest) > 1 else ""
    what = {
        "account": "a quoted 12-digit account id, e.g. '111122223333'",
        "region": "a region name (glob)",
        "vpc": "a vpc- id",
        "subnet": "a subnet- id",
        "cidr": "a CIDR block such as 10.0.0.0/16",
    }
    if not key:
        message = {
            "pattern": f"unknown selector {instance!r} (a keyword: {keywords}; or a mapping of "
            f"{keys})",
            "minProperties": f"an empty selector selects nothing (use {keys})",
        }.get(validator, f"a selector is a keyword ({keywords}) or a mapping of {keys}")
    elif key == "account" and validator == "type":
        message = f"account {instance!r}: account ids must be quoted strings, e.g. '111122223333'"
    elif key == "tag":
        message = (
            f"tag {rest[2]}: {instance!r} is not a string (quote it)"
            if len(rest) == 3
            else f"tag {instance!r}: tags are a mapping of key: value (quote numbers)"
        )
    elif key in what:
        message = f"{key} {instance!r} is not {what[key]} (one, or a list)"
    else:
        message = _plain(validator, instance, "a mapping")
    return message


def _plain(validator: str, instance: Any, want: str) -> str:
    if validator == "type":
        return f"{instance!r} is not {want}"
    return f"{instance!r} is not valid here ({validator})"


# -- reading -------------------------------------------------------------------------------------

LineOf = Callable[[tuple[str | int, ...]], int]
"""The 1-based line of a path in the document (the nearest enclosing one when absent)."""


def parse_intents(
    raw: Sequence[Mapping[str, Any]], source: str, line_of: LineOf
) -> tuple[Intent, ...]:
    """Typed intents from a schema-valid `intents:` list; semantic errors name file:line."""
    seen: dict[str, int] = {}
    out: list[Intent] = []
    for i, item in enumerate(raw):

        def at(*sub: str, _i: int = i) -> str:
            return f"{source}:{line_of(('intents', _i, *sub))}"

        name = str(item["name"])
        label = f"intent {name!r}"
        if name in seen:
            raise ConfigError(
                f"{at('name')}: {label} is already defined at line {seen[name]} of this file "
                f"(a later policy file may replace it by name)"
            )
        seen[name] = line_of(("intents", i))
        src = _selector(item["from"], f"{label}: from", at("from"))
        dst = _selector(item["to"], f"{label}: to", at("to"))
        if src.keyword.split("@")[0] in SERVICES:
            raise ConfigError(
                f"{at('from')}: {label}: from {src.keyword!r} is an AWS service: it can only "
                f"be a destination"
            )
        if src.keyword and dst.keyword:
            raise ConfigError(
                f"{at('to')}: {label}: from {src.keyword} to {dst.keyword}: one end must "
                f"select subnets (account, region, vpc, subnet, cidr or tag)"
            )
        protocol = str(item.get("protocol", "all"))
        port = item.get("port")
        if port is not None and protocol not in ("tcp", "udp"):
            raise ConfigError(
                f"{at('port')}: {label}: port {port} needs protocol tcp or udp "
                f"(protocol is {protocol})"
            )
        via = item.get("via", ())
        out.append(
            Intent(
                name=name,
                source=src,
                destination=dst,
                expect=str(item["expect"]),
                protocol=protocol,
                port=None if port is None else int(port),
                via=(via,) if isinstance(via, str) else tuple(dict.fromkeys(via)),
                severity=Severity(item["severity"]) if "severity" in item else None,
                description=str(item.get("description", "")).strip(),
                where=f"{source}:{line_of(('intents', i))}",
            )
        )
    return tuple(out)


def _many(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(dict.fromkeys(str(v) for v in value))


def _selector(value: Any, label: str, where: str) -> Selector:
    if isinstance(value, str):
        return Selector(keyword=value)
    cidrs = _many(value.get("cidr"))
    for c in cidrs:
        _check_cidr(c, label, where)
    return Selector(
        accounts=_many(value.get("account")),
        regions=_many(value.get("region")),
        vpcs=_many(value.get("vpc")),
        subnets=_many(value.get("subnet")),
        cidrs=tuple(str(ipaddress.ip_network(c, strict=False)) for c in cidrs),
        tags=tuple(sorted((str(k), str(v)) for k, v in (value.get("tag") or {}).items())),
    )


def _check_cidr(text: str, label: str, where: str) -> None:
    try:
        ipaddress.ip_network(text)
    except ValueError:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ConfigError(f"{where}: {label}: cidr {text!r} is not a CIDR block") from None
        raise ConfigError(
            f"{where}: {label}: cidr {text!r} has host bits set (did you mean {net}?)"
        ) from None


def merge_intents(earlier: Sequence[Intent], later: Sequence[Intent]) -> tuple[Intent, ...]:
    """Earlier intents with later ones added: a later intent of the same name replaces one."""
    by_name = {i.name: i for i in earlier}
    for i in later:
        by_name[i.name] = i
    return tuple(by_name.values())
