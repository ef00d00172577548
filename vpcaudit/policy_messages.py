"""Readable messages for policy schema errors, and the document path each is about."""

from __future__ import annotations

from typing import Any

import jsonschema

from vpcaudit.policy_intents import intent_label, schema_message

Path_ = tuple[str | int, ...]
"""A path in the policy document: mapping keys and list indexes."""


def schema_error(err: jsonschema.ValidationError, doc: Any) -> tuple[str, Path_]:
    """A readable message for a schema error, and the path whose line it is about."""
    path: Path_ = tuple(err.absolute_path)
    dotted = ".".join(str(p) for p in path) or "(top level)"
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        return _unknown_key(err, path, dotted, doc)
    if path[:1] == ("intents",):
        instance = err.instance
        if err.validator == "required":
            instance = err.message.split()[0]
        return schema_message(path, str(err.validator), instance, doc), path
    special = {
        "required": f"waiver {path[-1] if path else ''} has no {err.message.split()[0]} "
        f"(every waiver says why)",
        "enum": f"{dotted}: unknown rule id {err.instance!r} (see `vpcaudit rules`)",
        "pattern": f"{dotted}: {err.instance!r} is not a 12-digit account id (quote it)",
        "type": f"{dotted}: account ids must be quoted strings, e.g. '111122223333'",
    }
    key = str(err.validator)
    applies = {
        "required": len(path) == 2 and path[0] == "waivers",
        "enum": path[-1:] == ("rule",),
        "pattern": _about_account(path),
        "type": _about_account(path),
    }
    if applies.get(key, False):
        return special[key], path
    return f"{dotted}: {err.message}", path


def _about_account(path: Path_) -> bool:
    """Whether the path is an account id (a waiver's, or a selector's, alone or in a list)."""
    return path[-1:] == ("account",) or (path[-2:-1] == ("account",) and isinstance(path[-1], int))


def _unknown_key(
    err: jsonschema.ValidationError, path: Path_, dotted: str, doc: Any
) -> tuple[str, Path_]:
    known = set(err.schema.get("properties", {})) if isinstance(err.schema, dict) else set()
    instance: dict[str, Any] = err.instance if isinstance(err.instance, dict) else {}
    extra = sorted(str(k) for k in instance if k not in known)
    key = extra[0] if extra else ""
    where = (*path, key)
    allowed = ", ".join(sorted(known))
    if path == ("rules",):
        return f"unknown rule id {key!r} (see `vpcaudit rules`)", where
    if len(path) == 3 and path[0] == "rules" and path[2] == "params":
        names = ", ".join(sorted(known)) or "none"
        if key == "intents":
            return f"rule {path[1]!r}: intents go in the top-level `intents:` section", where
        return f"rule {path[1]!r} has no parameter {key!r} (parameters: {names})", where
    if len(path) == 2 and path[0] == "intents":
        label = intent_label(doc, path[1])
        return f"{label}: unknown key {key!r} (allowed: {allowed})", where
    if len(path) == 3 and path[0] == "intents" and path[2] in ("from", "to"):
        label = intent_label(doc, path[1])
        return (
            f"{label}: {path[2]}: unknown selector {key!r} (selectors: {allowed}; or "
            f"internet, on-premises, s3, dynamodb)",
            where,
        )
    return f"{dotted}: unknown key {key!r} (allowed: {allowed})", where
