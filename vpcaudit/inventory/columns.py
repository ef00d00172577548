"""The item checks of quarantine.py, a column at a time, with the repeated strings shared.

Checking a kind item by item costs a Python call per field of every item (about 9 s of an
`evaluate` of 100,000 VPCs), and interning every short string by walking every decoded item
another 6 s. Here a kind's items are read a field at a time: the field's values are gathered
in one comprehension, each distinct value is checked once (a route's state, its origin and its
gateway repeat on every route), and a field whose values repeat is given one string object per
value, so the models share them. Only the fields the inventory reads are visited.

The verdict is exactly that of `_problem` over every item (a test holds the two together on
the hostile corpus); naming what is wrong is left to `_problem`, on the rare malformed file.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vpcaudit.inventory.ids import Check
    from vpcaudit.inventory.quarantine import Fields

INTERN_MAX = 96
"""Strings up to this length (ids, CIDRs, states, account ids) are interned across kinds; a
longer repeated value (a policy document) is shared within its field only."""


def well_formed(fields: Fields, items: list[Any], *, share: bool = True) -> bool:
    """Whether every item passes the compiled spec; with `share`, each read field whose
    string values repeat then holds one object per value (in place)."""
    if not all(type(raw) is dict for raw in items):
        return False
    for key in fields.required:
        if not all(key in raw for raw in items):
            return False
    present = set().union(*items)  # the keys the items have (a route has 4 of 15)
    for key, check, required, inline in fields.ordered:
        if key not in present:
            continue
        column = [raw[key] for raw in items if key in raw]
        # As _problem: a value of the inline type passes, an optional "" passes.
        rest = column if inline is None else [v for v in column if type(v) is not inline]
        if not required:
            rest = [v for v in rest if v != ""]
        if rest and not _values_ok(rest, check, share):
            return False
        if share and len(column) > 1:
            _share(items, key, column)
    return True


def _values_ok(values: list[Any], check: Check, share: bool) -> bool:
    """Whether `check` passes every value (an object's and a list's by their own parts)."""
    fields: Fields | None = getattr(check, "fields", None)
    if fields is not None:
        return well_formed(fields, values, share=share)
    item: Check | None = getattr(check, "item", None)
    if item is not None:
        if not all(type(v) is list for v in values):
            return False
        flat = [element for v in values for element in v]
        return not flat or _values_ok(flat, item, share)
    strings = [v for v in values if type(v) is str]
    if len(strings) != len(values):
        others = [v for v in values if type(v) is not str]
        try:
            # Keyed by type too: 1 == True, and a boolean check must still see both.
            distinct: Any = {(type(v), v) for v in others}
            checked = [v for _, v in distinct]
        except TypeError:  # a list or an object where a value belongs
            checked = others
        if any(check(v) is not None for v in checked):
            return False
    return not any(check(v) is not None for v in set(strings))


def _share(items: list[Any], key: str, column: list[Any]) -> None:
    """Give every item the same string object for the same value of `key`, when the values
    are strings and some repeat (a column of distinct ids is left as it is: nothing to save)."""
    try:
        distinct = set(column)
    except TypeError:  # objects or lists: their own fields are shared by well_formed
        return
    # Strings never equal other values, so a set of strings means a column of strings (and
    # 1 and True, which are equal, are never merged here).
    if len(distinct) == len(column) or not all(type(v) is str for v in distinct):
        return
    intern = sys.intern
    canon = {v: intern(v) if len(v) <= INTERN_MAX else v for v in distinct}
    for raw in items:
        if key in raw:
            raw[key] = canon[raw[key]]
