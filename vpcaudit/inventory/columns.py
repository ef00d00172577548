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
from collections import deque
from collections.abc import Callable
from itertools import chain, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from vpcaudit.snapshot_file import INTERN_MAX

if TYPE_CHECKING:
    from vpcaudit.inventory.ids import Check
    from vpcaudit.inventory.quarantine import Fields


def well_formed(fields: Fields, items: list[Any], *, share: bool = True) -> bool:
    """Whether every item passes the compiled spec; with `share`, each read field whose
    string values repeat then holds one object per value (in place)."""
    # map() over C functions where it can: a kind can hold a million routes.
    if set(map(type, items)) - {dict}:
        return False
    for key in fields.required:
        if not all(map(dict.__contains__, items, repeat(key))):
            return False
    present = set().union(*items)  # the keys the items have (a route has 4 of 15)
    for key, check, required, inline in fields.ordered:
        if key not in present:
            continue
        try:
            holders, column = items, list(map(itemgetter(key), items))
        except KeyError:  # not every item has it
            holders = [raw for raw in items if key in raw]
            column = list(map(itemgetter(key), holders))
        types = set(map(type, column))
        if types == {str}:  # the usual column: checked by its distinct values
            distinct = set(column)
            if inline is not str and not _strings_ok(distinct, check, required=required):
                return False
            if share and len(distinct) < len(column):
                _share(holders, key, column, distinct)
        elif inline is None or types != {inline}:
            # As _problem: a value of the inline type passes (free text, a boolean), and an
            # optional "" passes.
            rest = column if inline is None else [v for v in column if type(v) is not inline]
            if not required:
                rest = [v for v in rest if v != ""]
            if rest and not _values_ok(rest, check, share):
                return False
    return True


def _strings_ok(distinct: set[str], check: Check, *, required: bool) -> bool:
    """Whether `check` passes each of these strings (an optional field's "" passes)."""
    if not required and "" in distinct:
        distinct = distinct - {""}
    if not distinct:
        return True
    if getattr(check, "fields", None) is not None or getattr(check, "item", None) is not None:
        return False  # a string where an object or a list belongs
    bulk: Callable[[set[str]], bool] | None = getattr(check, "bulk", None)
    if bulk is not None and bulk(distinct):
        return True  # one pattern pass over them all (a route table's unique /32s)
    return not any(check(v) is not None for v in distinct)


def _values_ok(values: list[Any], check: Check, share: bool) -> bool:
    """Whether `check` passes every value (an object's and a list's by their own parts)."""
    fields: Fields | None = getattr(check, "fields", None)
    if fields is not None:
        return well_formed(fields, values, share=share)
    item: Check | None = getattr(check, "item", None)
    if item is not None:
        if set(map(type, values)) != {list}:
            return False
        flat = list(chain.from_iterable(values))
        return not flat or _values_ok(flat, item, share)
    types = set(map(type, values))
    strings = values if types == {str} else [v for v in values if type(v) is str]
    if str not in types or len(types) > 1:
        others = [v for v in values if type(v) is not str]
        try:
            # Keyed by type too: 1 == True, and a boolean check must still see both.
            distinct: Any = {(type(v), v) for v in others}
            checked = [v for _, v in distinct]
        except TypeError:  # a list or an object where a value belongs
            checked = others
        if any(check(v) is not None for v in checked):
            return False
    return _strings_ok(set(strings), check, required=True)


def _share(holders: list[Any], key: str, column: list[str], distinct: set[str]) -> None:
    """Give every holder the same string object for the same value of `key` (the caller
    leaves a column of distinct ids as it is: nothing to save)."""
    intern = sys.intern
    # Short strings are interned, so kinds share them too; a longer repeated value (a policy
    # document) is shared within its field only.
    canon = {v: intern(v) if len(v) <= INTERN_MAX else v for v in distinct}
    # raw[key] = canon[raw[key]] for every holder, without a Python-level loop.
    deque(map(dict.__setitem__, holders, repeat(key), map(canon.__getitem__, column)), maxlen=0)
