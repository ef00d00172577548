"""Policy: which rules run, at what severity, with which parameters, and which findings are waived.

Policy files are YAML (read with yaml.safe_load semantics). Each file is validated before any
AWS call against a JSON Schema built from the loaded rules themselves (their ids and typed
parameter dataclasses), so a misspelled rule id or parameter is an error naming the file and
line, never a silently ignored key. Reachability intents (the `intents:` section) are read by
vpcaudit/policy_intents.py and reach the rule that checks them through a parameter field
marked as filled from that section.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from vpcaudit.errors import ConfigError
from vpcaudit.model import Severity
from vpcaudit.policy_intents import (
    INTENT_SCHEMA,
    SECTION_FIELD,
    Intent,
    merge_intents,
    parse_intents,
)
from vpcaudit.policy_messages import Path_, schema_error
from vpcaudit.rules.base import Rule

POLICY_VERSION = 1
DEFAULT_POLICY = "default.yaml"
INTENT_RULE = "reachability-intent"
"""The rule whose findings a waiver's `intent:` matcher selects."""
SECTIONS = ("intents",)
"""Top-level sections that fill rule parameters marked with SECTION_FIELD."""


@dataclass(frozen=True)
class RuleSettings:
    """A policy's settings for one rule."""

    enabled: bool | None = None
    """None: not said here (a later file that omits it keeps an earlier file's choice)."""
    severity: Severity | None = None
    """Replaces whatever severity the rule gives."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """Overrides of the rule's parameter defaults, already validated."""


@dataclass(frozen=True)
class Waiver:
    """An accepted exception: findings it matches are kept but marked suppressed."""

    rule: str
    """A rule id, or "*" for every rule."""
    reason: str
    resource: str | None = None
    """Glob over the resource id or ARN."""
    account: str | None = None
    region: str | None = None
    """Glob over the region name."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Every tag here must be on the resource with this value."""
    intent: str | None = None
    """Glob over the reachability intent's name (findings of rule reachability-intent)."""
    owner: str | None = None
    expires: dt.date | None = None
    """Last day the waiver applies; after it, findings count again."""
    source: str = ""
    """file:line where the waiver was written."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used in reports (`intent` only when the waiver names one)."""
        out: dict[str, Any] = {
            "rule": self.rule,
            "resource": self.resource,
            "account": self.account,
            "region": self.region,
            "tags": dict(self.tags),
            "reason": self.reason,
            "owner": self.owner,
            "expires": None if self.expires is None else self.expires.isoformat(),
            "source": self.source,
        }
        if self.intent is not None:
            out["intent"] = self.intent
        return out


@dataclass(frozen=True)
class Policy:
    """Rule switches, severities, parameters and waivers; empty means every rule as shipped."""

    rules: Mapping[str, RuleSettings] = field(default_factory=dict)
    waivers: tuple[Waiver, ...] = ()
    sources: tuple[str, ...] = ()
    """The files the policy was read from, in order."""
    intents: tuple[Intent, ...] = ()
    """Reachability intents, unique by name (a later file's intent replaces an earlier one)."""

    def settings(self, rule_id: str) -> RuleSettings:
        """The settings for a rule (defaults when the policy does not name it)."""
        return self.rules.get(rule_id, RuleSettings())

    def params_for(self, rule: Rule[Any]) -> Any:
        """The rule's parameters: defaults, this policy's overrides, and its section fields."""
        # A field marked with policy_intents.SECTION_FIELD is filled from that top-level
        # section (the intents), not from `rules.RULE.params`.
        overrides = dict(self.settings(rule.id).params)
        for name, section in section_fields(rule).items():
            value = self.section(section)
            if value:
                overrides[name] = value
        default = rule.default_params()
        if not overrides:
            return default
        return dataclasses.replace(default, **overrides)

    def section(self, name: str) -> tuple[Any, ...]:
        """A top-level section that feeds rule parameters (only `intents` so far)."""
        return {"intents": self.intents}[name]

    def merged(self, later: Policy) -> Policy:
        """This policy overridden by a later one: rule settings merge key by key."""
        rules = dict(self.rules)
        for rule_id, s in later.rules.items():
            old = rules.get(rule_id)
            if old is None:
                rules[rule_id] = s
                continue
            rules[rule_id] = RuleSettings(
                enabled=old.enabled if s.enabled is None else s.enabled,
                severity=s.severity or old.severity,
                params={**old.params, **s.params},
            )
        return Policy(
            rules,
            self.waivers + later.waivers,
            self.sources + later.sources,
            merge_intents(self.intents, later.intents),
        )


# -- schema ----------------------------------------------------------------------------------

_SCALARS: Mapping[Any, dict[str, Any]] = {
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
}


def _param_schema(tp: Any) -> dict[str, Any]:
    if tp in _SCALARS:
        return _SCALARS[tp]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (tuple, list, frozenset, set) and args and args[0] in _SCALARS:
        return {"type": "array", "items": _SCALARS[args[0]]}
    raise TypeError(f"unsupported parameter type {tp!r}")


def section_fields(rule: Rule[Any]) -> dict[str, str]:
    """The rule's parameter fields filled from a top-level policy section: {field: section}."""
    if not dataclasses.is_dataclass(rule.params_type):
        return {}
    out = {
        f.name: str(f.metadata[SECTION_FIELD])
        for f in dataclasses.fields(rule.params_type)
        if SECTION_FIELD in f.metadata
    }
    for name, section in out.items():
        if section not in SECTIONS:
            raise TypeError(f"rule {rule.id}: parameter {name} names no policy section {section!r}")
    return out


def _params_schema(rule: Rule[Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(rule.params_type)
    sections = section_fields(rule)  # set by their own sections, not under params
    props = {
        f.name: _param_schema(hints[f.name])
        for f in dataclasses.fields(rule.params_type)
        if f.name not in sections
    }
    return {"type": "object", "additionalProperties": False, "properties": props}


def policy_schema(rules: Mapping[str, Rule[Any]]) -> dict[str, Any]:
    """The JSON Schema a policy file must satisfy, built from the loaded rules."""
    rule_props = {
        rid: {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "severity": {"enum": [s.value for s in Severity]},
                "params": _params_schema(rule),
            },
        }
        for rid, rule in rules.items()
    }
    waiver = {
        "type": "object",
        "additionalProperties": False,
        "required": ["rule", "reason"],
        "properties": {
            "rule": {"enum": ["*", *sorted(rules)]},
            "resource": {"type": "string", "minLength": 1},
            "account": {"type": "string", "pattern": r"^\d{12}$"},
            "region": {"type": "string", "minLength": 1},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "intent": {"type": "string", "minLength": 1},
            "reason": {"type": "string", "minLength": 1, "pattern": r"\S"},
            "owner": {"type": "string"},
            "expires": {},
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "version": {"const": POLICY_VERSION},
            "rules": {"type": "object", "additionalProperties": False, "properties": rule_props},
            "waivers": {"type": "array", "items": waiver},
            "intents": {"type": "array", "items": INTENT_SCHEMA},
            "plugins": {"type": "array", "items": {"type": "string", "minLength": 1}},
        },
    }


# -- loading -----------------------------------------------------------------------------------


MAX_POLICY_BYTES = 1024 * 1024
"""A policy larger than this is refused before it is parsed."""
MAX_POLICY_DEPTH = 32
"""Deeper nesting than any policy needs is refused (it only costs the parser)."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text, refuses duplicate keys (YAML keeps the last), and
    refuses anchors and aliases: a few hundred bytes of nested aliases expand to billions of
    nodes (a "billion laughs"), and a policy never needs them."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Compose one node, refusing aliases, anchors and excessive depth."""
        event = self.peek_event()  # type: ignore[no-untyped-call]  # PyYAML is untyped here
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None,
                None,
                "anchors and aliases (&, *) are not allowed in a policy",
                event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_POLICY_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_POLICY_DEPTH} levels", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, refusing a key that appears twice."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _line_map(node: yaml.Node, path: Path_ = ()) -> dict[Path_, int]:
    """Map each path in the document to its 1-based line (keys to the key's line)."""
    lines: dict[Path_, int] = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, str(key.value))
            lines.update(_line_map(value, sub))
            lines[sub] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_line_map(item, (*path, i)))
    return lines


def _expires(value: Any, where: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: expires {value!r} is not a date (YYYY-MM-DD)") from None


def _coerce_params(rule: Rule[Any], params: Mapping[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(rule.params_type)
    out: dict[str, Any] = {}
    for name, value in params.items():
        tp = hints[name]
        origin = typing.get_origin(tp)
        if origin in (tuple, frozenset):
            out[name] = origin(value)
        elif tp is float and isinstance(value, int):
            out[name] = float(value)  # YAML reads 48 as an int; the field is a float
        elif tp is int and isinstance(value, float):
            out[name] = int(value)  # JSON Schema's integer admits 5.0; the field wants 5
        else:
            out[name] = value
    return out


def parse_policy(text: str, source: str, rules: Mapping[str, Rule[Any]]) -> Policy:
    """Validate and read one policy document; errors name the source and the line."""
    if len(text.encode("utf-8", "replace")) > MAX_POLICY_BYTES:
        raise ConfigError(f"{source}: a policy may be at most {MAX_POLICY_BYTES // 1024} KiB")
    try:
        node = yaml.compose(text, Loader=_Loader)
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{source}{at}: YAML syntax error: {problem}") from None
    if doc is None:
        return Policy(sources=(source,))
    lines = _line_map(node) if node is not None else {}
    errors = sorted(
        jsonschema.Draft202012Validator(policy_schema(rules)).iter_errors(doc),
        key=lambda e: [str(p) for p in e.absolute_path],
    )

    def line_of(path: Path_) -> int:
        return next((lines[path[:n]] for n in range(len(path), -1, -1) if path[:n] in lines), 1)

    if errors:
        message, path = schema_error(errors[0], doc)
        raise ConfigError(f"{source}:{line_of(path)}: {message}")
    settings: dict[str, RuleSettings] = {}
    for rid, raw_rule in (doc.get("rules") or {}).items():
        r = raw_rule or {}
        settings[rid] = RuleSettings(
            enabled=r.get("enabled"),
            severity=Severity(r["severity"]) if "severity" in r else None,
            params=_coerce_params(rules[rid], r.get("params") or {}),
        )
    waivers = []
    for i, raw in enumerate(doc.get("waivers") or []):
        where = f"{source}:{lines.get(('waivers', i), 1)}"
        if raw.get("intent") is not None and raw["rule"] not in ("*", INTENT_RULE):
            raise ConfigError(
                f"{source}:{line_of(('waivers', i, 'intent'))}: waiver {i + 1}: `intent` matches "
                f"only findings of rule {INTENT_RULE} (the waiver names {raw['rule']})"
            )
        waivers.append(
            Waiver(
                rule=raw["rule"],
                reason=raw["reason"].strip(),
                resource=raw.get("resource"),
                account=raw.get("account"),
                region=raw.get("region"),
                tags=dict(raw.get("tags") or {}),
                intent=raw.get("intent"),
                owner=raw.get("owner"),
                expires=_expires(
                    raw.get("expires"),
                    f"{source}:{lines.get(('waivers', i, 'expires'), 1)}",
                ),
                source=where,
            )
        )
    intents = parse_intents(doc.get("intents") or [], source, line_of)
    return Policy(settings, tuple(waivers), (source,), intents)


def plugin_names(paths: Sequence[Path]) -> tuple[list[str], list[str]]:
    """The third-party rule plugins the policy files name: their `plugins:` lists, and their
    `rules:` keys (a plugin of that id, if installed, is enabled by being configured). Read
    before any rule is loaded, because being named is what lets a plugin load."""
    listed: list[str] = []
    keys: list[str] = []
    for path in paths:
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # load_policy reports an unreadable file, with its line
        if len(text.encode("utf-8", "replace")) > MAX_POLICY_BYTES:
            continue
        try:
            doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
        except yaml.YAMLError:
            continue
        if not isinstance(doc, dict):
            continue
        if isinstance(doc.get("plugins"), list):
            listed += [x for x in doc["plugins"] if isinstance(x, str)]
        if isinstance(doc.get("rules"), dict):
            keys += [k for k in doc["rules"] if isinstance(k, str)]
    return listed, keys


def default_policy_text() -> str:
    """The documented default policy shipped inside the package."""
    return resources.files("vpcaudit").joinpath("data", DEFAULT_POLICY).read_text("utf-8")


def load_policy(paths: Sequence[Path], rules: Mapping[str, Rule[Any]]) -> Policy:
    """The shipped default overridden by each file in order (later files win)."""
    policy = parse_policy(default_policy_text(), f"<built-in {DEFAULT_POLICY}>", rules)
    for path in paths:
        policy = policy.merged(read_policy_file(path, rules))
    return policy


def read_policy_file(path: Path, rules: Mapping[str, Rule[Any]]) -> Policy:
    """One policy file on its own (not layered over the default), validated."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read policy ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: policy is not UTF-8 text (byte 0x{raw[exc.start]:02x})"
        ) from None
    return parse_policy(text, str(path), rules)


def _counted(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def settings_summary(policy: Policy) -> str:
    """What a policy file itself sets, counted: rules switched off or on, severity overrides,
    parameters, waivers and intents (`policy check` prints it)."""
    rules = policy.rules.values()
    parts = [
        _counted(sum(s.enabled is False for s in rules), "rule disabled", "rules disabled"),
        _counted(
            sum(s.severity is not None for s in rules), "severity override", "severity overrides"
        ),
        _counted(sum(len(s.params) for s in rules), "parameter", "parameters"),
        _counted(len(policy.waivers), "waiver", "waivers"),
    ]
    enabled = sum(s.enabled is True for s in rules)
    if enabled:
        parts.insert(1, _counted(enabled, "rule enabled", "rules enabled"))
    if policy.intents:
        parts.append(_counted(len(policy.intents), "intent", "intents"))
    return ", ".join(parts)


def expired_waivers(policy: Policy, today: dt.date) -> list[Waiver]:
    """The policy's waivers whose last day is before today: their findings count again."""
    return [w for w in policy.waivers if w.expires is not None and w.expires < today]
