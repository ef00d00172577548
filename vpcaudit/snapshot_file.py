"""The snapshot file: untrusted JSON read within caps, and a layout that reads one kind at a time.

A snapshot may come from a shared bucket, so reading one is bounded: its size
(`VPCAUDIT_SNAPSHOT_MAX_BYTES`, default 2 GiB), its nesting (64 levels), its integers (Python's
4,300-digit limit) and its constants (no NaN or Infinity); each refusal is one line.

The layout written since the line layout was introduced is still one JSON document (so any
JSON reader, and every older vpcaudit, reads it), with line breaks where a reader can find
the parts without parsing the whole:

    {"accounts":{...},...,"tool_version":"...","regions":[
    {"account_id":"111122223333","region":"eu-west-1","resources":{
    "flow_logs":[...],
    "vpcs":[...]
    }},
    {"account_id":...,"resources":{
    ...
    }}
    ]}

`read_lines` indexes such a file (where each kind's array starts and ends) without decoding
the items; each kind is decoded when it is iterated (`StoredItems`), so evaluating a 100,000-VPC
snapshot never holds its raw items all at once. A file in any other layout (the one-line
form older versions wrote) is read whole, as before.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import mmap
import os
import re
import reprlib
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from vpcaudit.errors import ConfigError, SnapshotError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_DEPTH",
    "StoredItems",
    "check_size",
    "iter_lines",
    "loads",
    "max_bytes",
    "read_lines",
    "short",
]

RawItem = dict[str, Any]

DEFAULT_MAX_BYTES = 2 * 1024**3
"""2 GiB: six times the 100,000-VPC / 1,000,000-route bench snapshot (about 340 MB), so an
organization of about 600,000 VPCs still loads; a larger one is scanned in shards."""
MAX_DEPTH = 64
"""Deepest nesting read; AWS's own shapes nest about 10 levels under the document."""
_MAX_BYTES_ENV = "VPCAUDIT_SNAPSHOT_MAX_BYTES"
_HEADER_END = b',"regions":[\n'
_STRING = rb'("(?:[^"\\\n]|\\.){0,200}")'
_REGION_OPEN = re.compile(
    rb'\{"account_id":' + _STRING + rb',"region":' + _STRING + rb',"resources":\{\n'
)
_KIND = re.compile(rb'"([a-z0-9_]{1,64})":\[')
_CHUNK = 1 << 20
_HEADER_MAX = 64 << 20
"""The first line (scope, gaps, skipped regions) is read whole up to this size."""
_EAGER = 64
"""A kind's array shorter than this many bytes (an empty one) is decoded while indexing."""


def short(value: Any) -> str:
    """A short repr of untrusted content, for an error message."""
    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxlist, r.maxdict, r.maxlevel = 40, 40, 3, 3, 2
    return r.repr(value)


def max_bytes() -> int:
    """The largest snapshot read: VPCAUDIT_SNAPSHOT_MAX_BYTES (bytes) overrides 2 GiB."""
    text = os.environ.get(_MAX_BYTES_ENV)
    if not text:
        return DEFAULT_MAX_BYTES
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{_MAX_BYTES_ENV}={short(text)} is not a number of bytes") from None
    if value <= 0:
        raise ConfigError(f"{_MAX_BYTES_ENV}={short(text)} must be a positive number of bytes")
    return value


def check_size(size: int, source: str) -> None:
    """Refuse a snapshot over the size cap, before reading it."""
    cap = max_bytes()
    if size > cap:
        raise SnapshotError(
            f"{source}: snapshot is {size:,} bytes, over the {cap:,}-byte limit "
            f"(set {_MAX_BYTES_ENV} to read it, or scan in shards)"
        )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth_now() -> int:
    """The interpreter's current recursion depth (frames and C-level calls alike)."""
    # sys.setrecursionlimit refuses a limit at or below the current depth: find the lowest
    # one it accepts (a dozen tries), since frame counting misses C-level recursion.
    old = sys.getrecursionlimit()
    low, high = 1, old
    while low < high:
        mid = (low + high) // 2
        try:
            sys.setrecursionlimit(mid)
        except RecursionError:
            low = mid + 1
        else:
            high = mid
    sys.setrecursionlimit(old)
    return low


@contextlib.contextmanager
def _nesting_cap(depth: int) -> Iterator[None]:
    """Let the JSON parser nest `depth` levels below here and no deeper.

    Python 3.11's C parser counts each nested array or object against the recursion limit,
    so a limit just above the current depth is a nesting cap with no second pass over the
    data (later versions count C recursion apart: their own parser limit then applies).
    """
    old = sys.getrecursionlimit()
    # json.loads, decode and raw_decode are three frames; a little slack for the C calls.
    sys.setrecursionlimit(min(old, _depth_now() + depth + 6))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def loads(text: str | bytes, source: str, where: str = "") -> Any:
    """Parse untrusted JSON within the caps; each refusal is a one-line SnapshotError."""
    at = f" ({where})" if where else ""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        with _nesting_cap(MAX_DEPTH):
            return json.loads(text, parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise SnapshotError(f"{source}: snapshot is not UTF-8 text{at}") from None
    except json.JSONDecodeError as exc:
        raise SnapshotError(
            f"{source}: snapshot is not valid JSON{at} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise SnapshotError(
            f"{source}: snapshot nests deeper than {MAX_DEPTH} levels{at}; refused"
        ) from None
    except ValueError as exc:
        # int() past sys.get_int_max_str_digits(), or NaN/Infinity.
        what = "an integer too long to read" if "digits" in str(exc) else str(exc)
        raise SnapshotError(f"{source}: snapshot holds {what}{at}; refused") from None


@dataclass(frozen=True)
class _Source:
    """A snapshot file, and what it was when indexed (to notice it changing under us)."""

    path: Path
    name: str
    identity: tuple[int, int, int, int]

    def read(self, offset: int, length: int) -> bytes:
        with self.path.open("rb") as f:
            st = os.fstat(f.fileno())
            if (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) != self.identity:
                raise SnapshotError(f"{self.name}: snapshot changed while it was being read")
            f.seek(offset)
            return f.read(length)


Inspect = Callable[[str, list[RawItem]], "bool | None"]
"""Checks a kind's decoded items, sharing their repeated strings as it goes: True (well
formed) or False, or None for a kind it does not check (the items are then interned here)."""
Seen = Callable[["StoredItems", "bool | None"], None]
"""Told each kind decoded while watching, with the inspection's verdict."""


class Ahead(Protocol):
    """Kinds decoded (and inspected) ahead of the build, elsewhere (vpcaudit.prefetch)."""

    def take(self, stored: StoredItems) -> tuple[bool | None, list[RawItem]] | None:
        """The verdict and items of `stored`, or None to decode it here."""


@dataclass(frozen=True)
class _Watch:
    inspect: Inspect
    seen: Seen
    ahead: Ahead | None


_WATCH: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar(
    "vpcaudit_stored_items_watch", default=None
)


@contextlib.contextmanager
def watching(inspect: Inspect, seen: Seen, ahead: Ahead | None = None) -> Iterator[None]:
    """In this context, every kind decoded from a snapshot file is inspected (so a file is
    decoded once, not once to check and once to build) and `seen` told the verdict; `ahead`
    may hand over kinds already decoded and inspected in another process."""
    token = _WATCH.set(_Watch(inspect, seen, ahead))
    try:
        yield
    finally:
        _WATCH.reset(token)


class StoredItems(Sequence[RawItem]):
    """One kind's raw items in a snapshot file, decoded each time they are read (never
    kept: the inventory keeps its typed models, not the raw items)."""

    __slots__ = ("_kind", "_length", "_offset", "_source", "_where")

    def __init__(self, source: _Source, offset: int, length: int, where: str, kind: str) -> None:
        self._source, self._offset, self._length = source, offset, length
        self._where, self._kind = where, kind

    @property
    def kind(self) -> str:
        """The resource kind these items are."""
        return self._kind

    @property
    def size(self) -> int:
        """Bytes of the file these items take."""
        return self._length

    def decode(self) -> list[RawItem]:
        """The items as the file holds them, checked to be a list of objects."""
        data = self._source.read(self._offset, self._length)
        where = f"{self._where} {self._kind}"
        return checked_items(loads(data, self._source.name, where), self._source.name, where)

    def load(self, *, intern: bool = True) -> list[RawItem]:
        """Decode the items, with short strings interned (unless the caller only looks at
        them and lets them go: interning is a third of the cost of a decode). Inside
        `watching()`, the items are inspected instead, or taken already decoded."""
        watch = _WATCH.get()
        if watch is None:
            items = self.decode()
            return intern_strings(items) if intern else items
        got = watch.ahead.take(self) if watch.ahead is not None else None
        if got is None:
            items = self.decode()
            verdict = watch.inspect(self._kind, items)
        else:
            verdict, items = got
        watch.seen(self, verdict)
        if verdict is None and intern:
            return intern_strings(items)
        return items

    def __iter__(self) -> Iterator[RawItem]:
        return iter(self.load())

    def __len__(self) -> int:
        return len(self.load())

    def __getitem__(self, index: Any) -> Any:
        return self.load()[index]

    def __bool__(self) -> bool:
        return True  # empty arrays are decoded while indexing, never stored

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return self.load() == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{self._kind}: {self._length:,} bytes of {self._source.name}>"


INTERN_MAX = 96
"""Strings up to this length (ids, CIDRs, states, account ids) are interned."""


def intern_strings(items: list[RawItem]) -> list[RawItem]:
    """Intern the short strings of decoded items, in place: the JSON parser makes a new
    string for each occurrence, and the models keep them (an account id, a state, a route's
    target, repeated on every item: 85 % of the strings an inventory holds)."""
    intern = sys.intern
    stack: list[Any] = [items]
    while stack:
        node = stack.pop()
        pairs = node.items() if type(node) is dict else enumerate(node)
        for key, value in pairs:
            kind = type(value)
            if kind is str:
                if len(value) <= INTERN_MAX:
                    node[key] = intern(value)
            elif kind is dict or kind is list:
                stack.append(value)
    return items


def checked_items(items: Any, source: str, where: str) -> list[RawItem]:
    """A kind's value must be a list of objects."""
    if not isinstance(items, list):
        raise SnapshotError(
            f"{source}: {where} must be a list of objects, not {type(items).__name__}"
        )
    for item in items:
        if not isinstance(item, dict):
            raise SnapshotError(f"{source}: {where} must be a list of objects, found {short(item)}")
    return items


def iter_lines(
    header: Mapping[str, Any], regions: Iterable[tuple[str, str, Mapping[str, Iterable[RawItem]]]]
) -> Iterator[str]:
    """The snapshot document in the line layout, a line at a time (header keys sorted, the
    regions last, then one line per kind)."""
    head = json.dumps(dict(header), sort_keys=True, separators=(",", ":"))
    yield head[:-1] + _HEADER_END.decode()
    first = True
    for account_id, region, resources in regions:
        if not first:
            yield "}},\n"
        first = False
        ids = json.dumps({"account_id": account_id, "region": region}, separators=(",", ":"))
        yield ids[:-1] + ',"resources":{\n'
        kinds = sorted(resources)
        for i, kind in enumerate(kinds):
            items = json.dumps(list(resources[kind]), sort_keys=True, separators=(",", ":"))
            yield f"{json.dumps(kind)}:{items}{',' if i < len(kinds) - 1 else ''}\n"
    yield ("}}\n" if not first else "") + "]}\n"


class _NotLines(Exception):
    """The file is not in the line layout: read it whole instead."""


def read_lines(
    path: Path, source: str
) -> tuple[dict[str, Any], list[tuple[str, str, dict[str, Sequence[RawItem]]]]] | None:
    """Index a snapshot in the line layout: its header, and per region each kind's items
    (decoded when iterated). None when the file is in another layout."""
    try:
        # Asked before opening: a pipe gives its bytes to one open only, and those must go to
        # the whole-file read (the index would need to read them twice).
        if not stat.S_ISREG(path.stat().st_mode):
            return None
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            check_size(st.st_size, source)
            if not stat.S_ISREG(st.st_mode) or not st.st_size:
                return None  # replaced meanwhile, or nothing: read whole (refused if empty)
            src = _Source(path, source, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
            # Mapped, not read: a line's end is found in place and only its first bytes are
            # copied. Reading each line whole cost 0.4 s for a 393 MB snapshot, most of it
            # page faults on a fresh buffer per line (0.14 s once the allocator had warmed up).
            try:
                mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):  # a file system that cannot map: read it whole
                return None
            with mapped:
                try:
                    return _index(_Lines(mapped), src)
                except _NotLines:
                    return None
    except OSError as exc:
        raise SnapshotError(f"{source}: cannot read snapshot ({exc.strerror or exc})") from None


class _Lines:
    """The lines of a mapped file, in order."""

    def __init__(self, mapped: mmap.mmap) -> None:
        self._mapped = mapped
        self._pos = 0

    def line(self, first: int = _CHUNK) -> tuple[bytes, bytes, int]:
        """The next line's first `first` bytes, its last three bytes and its length (the
        newline included); empty at the end."""
        mapped, pos = self._mapped, self._pos
        end = mapped.find(b"\n", pos)
        stop = len(mapped) if end < 0 else end + 1
        self._pos = stop
        return mapped[pos : min(stop, pos + first)], mapped[max(pos, stop - 3) : stop], stop - pos

    def more(self) -> bool:
        """True when anything follows the lines read."""
        return self._pos < len(self._mapped)


def _index(  # noqa: PLR0912, PLR0915 - one pass over the layout's lines, easier read whole
    f: _Lines, src: _Source
) -> tuple[dict[str, Any], list[tuple[str, str, dict[str, Sequence[RawItem]]]]]:
    head, tail, length = f.line(_HEADER_MAX)
    if length != len(head) or not head.startswith(b"{") or not head.endswith(_HEADER_END):
        raise _NotLines
    header = loads(head[: -len(_HEADER_END)] + b"}", src.name, "header")
    if not isinstance(header, dict) or "regions" in header:
        raise _NotLines
    pos = length
    regions: list[tuple[str, str, dict[str, Sequence[RawItem]]]] = []
    while True:
        head, tail, length = f.line()
        if head in (b"]}\n", b"]}") and not regions:
            break
        m = _REGION_OPEN.fullmatch(head)
        if m is None or length != len(head):
            raise _NotLines
        account_id = loads(m.group(1), src.name, "account id")
        region = loads(m.group(2), src.name, "region")
        where = f"{short(account_id)} {short(region)}"
        pos += length
        resources: dict[str, Sequence[RawItem]] = {}
        while True:
            head, tail, length = f.line()
            if head in (b"}},\n", b"}}\n"):
                break
            k = _KIND.match(head)
            if k is None or not tail.endswith((b"]\n", b"],\n")):
                raise _NotLines
            comma = tail.endswith(b",\n")
            start = pos + k.end() - 1
            size = length - (k.end() - 1) - (2 if comma else 1)
            kind = k.group(1).decode()
            if size < _EAGER and size <= len(head):
                value = head[k.end() - 1 : k.end() - 1 + size]
                resources[kind] = checked_items(
                    loads(value, src.name, f"{where} {kind}"), src.name, f"{where} {kind}"
                )
            else:
                resources[kind] = StoredItems(src, start, size, where, kind)
            pos += length
            if not comma:
                head, tail, length = f.line()
                if head not in (b"}},\n", b"}}\n"):
                    raise _NotLines
                break
        pos += length
        regions.append((str(account_id), str(region), resources))
        if head == b"}}\n":
            head, tail, length = f.line()
            if head not in (b"]}\n", b"]}"):
                raise _NotLines
            break
    if f.more():
        raise _NotLines  # anything after the document: let the JSON parser say what
    return header, regions
