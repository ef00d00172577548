"""Load rules from the `vpcaudit.rules` entry-point group: built-in and third-party alike.

Built-in rules (the vpcaudit distribution's own entry points) always load. A third-party rule
is code from another package that would run with the scanner's credentials in memory, so it is
not even imported unless the user names it (`--plugin NAME` or a policy's `plugins:` list).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from vpcaudit.errors import ConfigError
from vpcaudit.rules.base import Rule
from vpcaudit.rules.sandbox import no_aws_calls

GROUP = "vpcaudit.rules"
BUILTIN_DIST = "vpcaudit"
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class LoadedRule:
    """A rule and where it came from (distribution and entry point)."""

    rule: Rule[Any]
    source: str
    builtin: bool = True


def _dist_name(ep: EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    name = getattr(dist, "name", None)
    return str(name) if name else None


def _source(ep: EntryPoint) -> str:
    return f"{_dist_name(ep) or '?'}:{ep.value}"


def is_builtin(ep: EntryPoint) -> bool:
    """True for an entry point of vpcaudit itself (by distribution, or by module when an
    entry point was made by hand, without a distribution)."""
    dist = _dist_name(ep)
    if dist is not None:
        return dist.lower().replace("_", "-") == BUILTIN_DIST
    return ep.value.startswith(f"{BUILTIN_DIST}.")


def _names(ep: EntryPoint) -> set[str]:
    """The names a user may enable a plugin by: its entry-point name or its distribution."""
    dist = _dist_name(ep)
    return {ep.name} | ({dist} if dist else set())


def available_plugins(eps: Iterable[EntryPoint] | None = None) -> list[str]:
    """Sources of the installed third-party rules (nothing is imported to list them)."""
    found = list(entry_points(group=GROUP)) if eps is None else list(eps)
    return sorted(_source(ep) for ep in found if not is_builtin(ep))


def _select(
    found: list[EntryPoint], plugins: Iterable[str], configured: Iterable[str]
) -> list[EntryPoint]:
    """The built-in entry points and the third-party ones named; an unknown name is an error."""
    wanted = {p.strip() for p in plugins if p.strip()}
    # A policy's rule key enables the plugin of that id if one is installed; if none is, the
    # policy's schema check reports the key, so it is no error here.
    soft = set(configured)
    third = [ep for ep in found if not is_builtin(ep)]
    known = set().union(*(_names(ep) for ep in third)) if third else set()
    wanted_all = wanted | (soft & known)
    for name in sorted(wanted - known):
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listing = ", ".join(sorted(known)) or "none"
        raise ConfigError(
            f"no installed rule plugin is named {name!r} (installed: {listing}){hint}"
        )
    return [ep for ep in found if is_builtin(ep) or _names(ep) & wanted_all]


def load_rules(
    eps: list[EntryPoint] | None = None,
    plugins: Iterable[str] = (),
    configured: Iterable[str] = (),
) -> dict[str, LoadedRule]:
    """Load the built-in rules and the third-party ones named (`plugins`: an entry-point or
    distribution name, an error if none is installed; `configured`: rule ids a policy
    configures, enabling an installed plugin of that id), keyed by id."""
    found = list(entry_points(group=GROUP)) if eps is None else eps
    rules: dict[str, LoadedRule] = {}
    for ep in sorted(_select(found, plugins, configured), key=lambda e: (e.name, e.value)):
        source = _source(ep)
        builtin = is_builtin(ep)
        try:
            # A plugin's import runs its module code: no AWS call may happen there either.
            with no_aws_calls(f"rule plugin {source} (while loading)"):
                obj = ep.load()
        except ConfigError:
            raise
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
        rules[obj.id] = LoadedRule(obj, source, builtin)
    if not rules:
        raise ConfigError(
            "no rules found in entry-point group 'vpcaudit.rules': is vpcaudit installed "
            "(pip install .)?"
        )
    return rules


def third_party(rules: dict[str, LoadedRule]) -> dict[str, str]:
    """Rule id -> source of every third-party rule loaded (the report lists them)."""
    return {rid: lr.source for rid, lr in sorted(rules.items()) if not lr.builtin}
