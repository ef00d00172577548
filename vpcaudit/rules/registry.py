"""Load rules from the `vpcaudit.rules` entry-point group: built-in and third-party alike."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from vpcaudit.errors import ConfigError
from vpcaudit.rules.base import Rule

GROUP = "vpcaudit.rules"
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class LoadedRule:
    """A rule and where it came from (distribution and entry point)."""

    rule: Rule[Any]
    source: str


def _source(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    name = getattr(dist, "name", None) or "?"
    return f"{name}:{ep.value}"


def load_rules(eps: list[EntryPoint] | None = None) -> dict[str, LoadedRule]:
    """Load every rule of the entry-point group, keyed by id, refusing duplicate ids."""
    found = list(entry_points(group=GROUP)) if eps is None else eps
    rules: dict[str, LoadedRule] = {}
    for ep in sorted(found, key=lambda e: (e.name, e.value)):
        source = _source(ep)
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must be named, whatever it raised
            raise ConfigError(f"rule plugin {source} failed to load: {exc}") from None
        if not isinstance(obj, Rule):
            raise ConfigError(f"rule plugin {source} is not a vpcaudit Rule")
        if not _ID.match(obj.id):
            raise ConfigError(f"rule plugin {source}: id {obj.id!r} is not a kebab-case slug")
        if obj.id in rules:
            other = rules[obj.id].source
            if other == source:
                continue  # the same distribution seen twice on sys.path
            raise ConfigError(f"duplicate rule id {obj.id!r}: defined by {other} and by {source}")
        rules[obj.id] = LoadedRule(obj, source)
    if not rules:
        raise ConfigError(
            "no rules found in entry-point group 'vpcaudit.rules': is vpcaudit installed "
            "(pip install .)?"
        )
    return rules
