"""Snapshot: the raw API items of a scan plus its coverage gaps, saved as versioned JSON.

A snapshot keeps what AWS returned, untouched, so that a saved scan can be evaluated again
after the models or the rules change (`vpcaudit evaluate FILE`, no credentials needed).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from vpcaudit import snapshot_file
from vpcaudit.errors import SnapshotError
from vpcaudit.files import SNAPSHOT_MODE, write_local
from vpcaudit.model import Gap
from vpcaudit.snapshot_file import short

# 2: the network model's kinds (NACLs, ENIs, Transit Gateway tables and routes, VPNs, ...),
# items read per parent stamped with the parent's id, secrets stripped from VPN connections.
SCHEMA_VERSION = 2
# Version 1 lacks those kinds and has nothing else different: it loads as is, and the kinds it
# lacks are named by vpcaudit.aws.collect.not_collected.
READABLE_VERSIONS = frozenset({1, SCHEMA_VERSION})
KIND = "vpcaudit-snapshot"

RawItem = dict[str, Any]


def json_safe(value: Any) -> Any:
    """Turn a boto3 response value into plain JSON types (datetimes become ISO 8601 UTC)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


@dataclass(frozen=True)
class RegionData:
    """What was read in one account and region: resource kind -> raw API items."""

    account_id: str
    region: str
    resources: Mapping[str, Sequence[RawItem]]
    """A list per kind; read from a file in the line layout, a `StoredItems` that decodes the
    kind each time it is iterated."""


@dataclass(frozen=True)
class Skipped:
    """A region deliberately not scanned (not enabled for the account, or filtered out)."""

    account_id: str
    region: str
    reason: str


NOTHING_READ = "NoRegionRead"
"""The error code of the gap a snapshot with no region carries: nothing read is not clean."""


def nothing_read_gap() -> Gap:
    """The gap of a snapshot that holds no region at all."""
    return Gap("", "*", "*", NOTHING_READ, "the snapshot holds no region: nothing was read")


@dataclass(frozen=True)
class Snapshot:
    """One scan: its scope, raw items per (account, region), skipped regions and gaps."""

    started_at: str
    finished_at: str
    tool_version: str
    accounts: Mapping[str, str]
    """Scanned account id -> name (or "" when unknown)."""
    regions: tuple[RegionData, ...]
    gaps: tuple[Gap, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    org_account_ids: frozenset[str] | None = None
    """Every Organization member, when known: tells an external peer from an unscanned one."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Free-form metadata (e.g. how the scan was invoked); never read by rules."""

    @property
    def region_names(self) -> list[str]:
        """The sorted distinct regions read."""
        return sorted({r.region for r in self.regions})

    def header_dict(self) -> dict[str, Any]:
        """The JSON document form without its regions."""
        return {
            "kind": KIND,
            "schema_version": SCHEMA_VERSION,
            "tool_version": self.tool_version,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "accounts": dict(sorted(self.accounts.items())),
            "org_account_ids": None
            if self.org_account_ids is None
            else sorted(self.org_account_ids),
            "skipped": [
                {"account_id": s.account_id, "region": s.region, "reason": s.reason}
                for s in sorted(self.skipped, key=lambda s: (s.account_id, s.region))
            ],
            "gaps": [g.to_dict() for g in sorted(self.gaps) if g.error_code != NOTHING_READ],
            "extra": dict(self.extra),
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document form (every raw item in memory: for small snapshots)."""
        return {
            **self.header_dict(),
            "regions": [
                {
                    "account_id": r.account_id,
                    "region": r.region,
                    "resources": {k: list(r.resources[k]) for k in sorted(r.resources)},
                }
                for r in sorted(self.regions, key=lambda r: (r.account_id, r.region))
            ],
        }

    @classmethod
    def from_dict(cls, doc: Any, source: str = "snapshot") -> Snapshot:
        """Read a snapshot document, raising SnapshotError on anything malformed."""
        header = _check_header(doc, source)
        regions = _field(doc, "regions", list, source)
        return cls._from_parts(
            header,
            [_region_from_dict(r, f"{source}: regions[{i}]") for i, r in enumerate(regions)],
            source,
        )

    @classmethod
    def _from_parts(
        cls,
        doc: dict[str, Any],
        regions: list[tuple[str, str, Mapping[str, Sequence[RawItem]]]],
        source: str,
    ) -> Snapshot:
        org = _field(doc, "org_account_ids", list, source, optional=True)
        gaps = tuple(
            Gap.from_dict(_strings(g, _GAP_FIELDS, f"{source}: gaps[{i}]"))
            for i, g in enumerate(_field(doc, "gaps", list, source, optional=True) or [])
        )
        if not regions:
            gaps = (*gaps, nothing_read_gap())
        return cls(
            started_at=_field(doc, "started_at", str, source),
            finished_at=_field(doc, "finished_at", str, source),
            tool_version=_field(doc, "tool_version", str, source, optional=True) or "",
            accounts=_string_map(_field(doc, "accounts", dict, source), f"{source}: accounts"),
            org_account_ids=None
            if org is None
            else frozenset(
                _string(a, f"{source}: org_account_ids[{i}]") for i, a in enumerate(org)
            ),
            regions=tuple(RegionData(a, r, res) for a, r, res in regions),
            skipped=tuple(
                Skipped(
                    **_strings(s, ("account_id", "region", "reason"), f"{source}: skipped[{i}]")
                )
                for i, s in enumerate(_field(doc, "skipped", list, source, optional=True) or [])
            ),
            gaps=gaps,
            extra=_check_extra(_field(doc, "extra", dict, source, optional=True) or {}, source),
        )

    def save(self, path: Path) -> None:
        """Write the snapshot as JSON (sorted keys, so equal scans give equal files), owner-only
        and atomically."""
        write_local(path, self.dumps(), SNAPSHOT_MODE)

    @classmethod
    def load(cls, path: Path) -> Snapshot:
        """Read a snapshot file, raising SnapshotError when it is unreadable or malformed.

        A file in the line layout is indexed, and its items decoded kind by kind when read;
        any other is read whole (both within the caps of vpcaudit.snapshot_file)."""
        source = str(path)
        indexed = snapshot_file.read_lines(path, source)
        if indexed is not None:
            header, regions = indexed
            _check_header(header, source)
            return cls._from_parts(header, list(regions), source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SnapshotError(f"{path}: cannot read snapshot ({exc.strerror or exc})") from None
        snapshot_file.check_size(len(data), source)
        return cls.from_dict(snapshot_file.loads(data, source), source=source)

    @classmethod
    def parse(cls, text: str, source: str) -> Snapshot:
        """Read a snapshot from JSON text (source names it in errors)."""
        snapshot_file.check_size(len(text), source)
        return cls.from_dict(snapshot_file.loads(text, source), source=source)

    def lines(self) -> Iterator[str]:
        """The snapshot as JSON text in the line layout, a line at a time (sorted keys, so
        equal scans give equal files)."""
        return write_lines(self, self.regions)

    def dumps(self) -> str:
        """The snapshot as JSON text (sorted keys, so equal scans give equal files)."""
        return "".join(self.lines())


def write_lines(header: Snapshot, regions: Iterable[RegionData]) -> Iterator[str]:
    """A snapshot document, a line at a time, with the scope of `header` and these regions
    (a generator may make them one at a time: only one is then ever in memory)."""
    ordered = regions if not isinstance(regions, tuple | list) else _sorted_regions(regions)
    return snapshot_file.iter_lines(
        header.header_dict(), ((r.account_id, r.region, r.resources) for r in ordered)
    )


def write_snapshot(out: TextIO, header: Snapshot, regions: Iterable[RegionData]) -> None:
    """Write a snapshot document to a text stream (see write_lines)."""
    for line in write_lines(header, regions):
        out.write(line)


def _sorted_regions(regions: Iterable[RegionData]) -> list[RegionData]:
    return sorted(regions, key=lambda r: (r.account_id, r.region))


def load_snapshot(src: str) -> Snapshot:
    """A snapshot from a local path or an s3:// URI."""
    if src.startswith("s3://"):
        # boto3 is imported only when a snapshot is read from S3 (`path` stays quick offline).
        from vpcaudit import destinations  # noqa: PLC0415

        return Snapshot.parse(destinations.read_text(src), src)
    return Snapshot.load(Path(src))


# -- validation of the document's own fields (raw items are the inventory's to check) ------

_GAP_FIELDS = ("account_id", "region", "operation", "error_code", "message")
_SHARD = re.compile(r"[0-9]{1,6}/[0-9]{1,6}")


def _check_header(doc: Any, source: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise SnapshotError(
            f"{source}: not a vpcaudit snapshot (a JSON {type(doc).__name__}, not an object)"
        )
    if doc.get("kind") != KIND:
        raise SnapshotError(f"{source}: not a vpcaudit snapshot (kind {short(doc.get('kind'))})")
    version = doc.get("schema_version")
    # bool is an int, and 1.0 == 1: only the integers themselves are versions.
    if type(version) is not int or version not in READABLE_VERSIONS:
        readable = " and ".join(str(v) for v in sorted(READABLE_VERSIONS))
        raise SnapshotError(
            f"{source}: snapshot schema_version {short(version)} is not supported "
            f"(this vpcaudit reads versions {readable})"
        )
    return doc


_TYPE_NAMES: dict[type, str] = {str: "a string", list: "a list", dict: "an object"}


def _field(
    doc: dict[str, Any], key: str, kind: type, source: str, *, optional: bool = False
) -> Any:
    if key not in doc or (optional and doc[key] is None):
        if optional:
            return None
        raise SnapshotError(f"{source}: malformed snapshot: {key} is missing")
    value = doc[key]
    if not isinstance(value, kind):
        raise SnapshotError(
            f"{source}: malformed snapshot: {key} must be {_TYPE_NAMES[kind]}, not {short(value)}"
        )
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise SnapshotError(f"{where} must be a string, not {short(value)}")
    return value


def _strings(value: Any, keys: tuple[str, ...], where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise SnapshotError(f"{where} must be an object, not {short(value)}")
    missing = [k for k in keys if k not in value]
    if missing:
        raise SnapshotError(f"{where} lacks {', '.join(missing)}")
    return {k: _string(value[k], f"{where}.{k}") for k in keys}


def _string_map(value: dict[str, Any], where: str) -> dict[str, str]:
    return {k: "" if v is None else _string(v, f"{where}.{k}") for k, v in value.items()}


def _check_extra(extra: dict[str, Any], source: str) -> dict[str, Any]:
    run_id = extra.get("run_id")
    if run_id is not None:
        _string(run_id, f"{source}: extra.run_id")
    shard = extra.get("shard")
    if shard and not (isinstance(shard, str) and _SHARD.fullmatch(shard)):
        raise SnapshotError(f"{source}: extra.shard must read I/N, not {short(shard)}")
    stats = extra.get("stats")
    if stats is not None and not isinstance(stats, dict):
        raise SnapshotError(f"{source}: extra.stats must be an object, not {short(stats)}")
    return extra


def _region_from_dict(data: Any, where: str) -> tuple[str, str, dict[str, Sequence[RawItem]]]:
    if not isinstance(data, dict):
        raise SnapshotError(f"{where} must be an object, not {short(data)}")
    ids = _strings(data, ("account_id", "region"), where)
    resources = data.get("resources")
    if not isinstance(resources, dict):
        raise SnapshotError(f"{where}.resources must be an object, not {short(resources)}")
    checked: dict[str, Sequence[RawItem]] = {}
    for kind, items in resources.items():
        checked[kind] = snapshot_file.checked_items(items, where, f"resources.{short(kind)}")
    return ids["account_id"], ids["region"], checked


def merge_gaps(*groups: Iterable[Gap]) -> tuple[Gap, ...]:
    """Join gap lists, dropping exact duplicates, in a stable order."""
    return tuple(sorted({g for group in groups for g in group}))


def merge_snapshots(snaps: list[Snapshot]) -> Snapshot:
    """Join the snapshots of several shards into one, refusing overlaps that disagree."""
    if not snaps:
        raise SnapshotError("nothing to merge")
    shards = _check_shards(snaps)
    regions: dict[tuple[str, str], RegionData] = {}
    for snap in snaps:
        for r in snap.regions:
            key = (r.account_id, r.region)
            if key in regions and regions[key].resources != r.resources:
                raise SnapshotError(
                    f"account {r.account_id} region {r.region} is in two snapshots with "
                    f"different contents: were the shards run with the same --shard N?"
                )
            regions[key] = r
    orgs = [s.org_account_ids for s in snaps if s.org_account_ids is not None]
    if len({frozenset(o) for o in orgs}) > 1:
        raise SnapshotError(
            "the snapshots come from different Organizations (their member lists differ): "
            "merge the shards of one scan"
        )
    stats: dict[str, Any] = {}
    for s in snaps:
        for k, v in (s.extra.get("stats") or {}).items():
            if isinstance(v, int):
                stats[k] = stats.get(k, 0) + v
    accounts: dict[str, str] = {}
    for s in snaps:
        accounts.update(s.accounts)
    return Snapshot(
        started_at=min(s.started_at for s in snaps),
        finished_at=max(s.finished_at for s in snaps),
        tool_version=snaps[0].tool_version,
        accounts=dict(sorted(accounts.items())),
        regions=tuple(regions[k] for k in sorted(regions)),
        # An empty shard's "nothing read" gap is its own: the merged scan carries one only when
        # no shard read anything.
        gaps=merge_gaps(
            *([g for g in s.gaps if g.error_code != NOTHING_READ] for s in snaps),
            [] if regions else [nothing_read_gap()],
        ),
        skipped=tuple(
            sorted({k for s in snaps for k in s.skipped}, key=lambda k: (k.account_id, k.region))
        ),
        org_account_ids=frozenset().union(*orgs) if orgs else None,
        extra={
            "merged_from": len(snaps),
            "stats": stats,
            **({"shards": shards} if shards else {}),
            **({"run_id": snaps[0].extra["run_id"]} if snaps[0].extra.get("run_id") else {}),
            # Why a region read so little (no VPC there): each shard's note, kept together.
            **({"skipped_kinds": kinds} if (kinds := _skipped_kinds(snaps)) else {}),
        },
    )


def _skipped_kinds(snaps: list[Snapshot]) -> list[Any]:
    """Every shard's extra["skipped_kinds"] entries, once each, in (account, region) order."""
    seen: dict[str, Any] = {}
    for s in snaps:
        for k in s.extra.get("skipped_kinds") or []:
            seen.setdefault(json.dumps(k, sort_keys=True), k)
    return [seen[key] for key in sorted(seen)]


def drop_repeats(snaps: list[Snapshot], names: list[str]) -> tuple[list[Snapshot], list[str]]:
    """The same shard given twice (the same file, or an identical copy) is used once, with a
    warning; two different snapshots claiming one shard are left for merge to refuse."""
    kept: list[Snapshot] = []
    seen: dict[str, str] = {}
    warnings: list[str] = []
    for snap, name in zip(snaps, names, strict=True):
        key = snap.dumps()
        if key in seen:
            warnings.append(f"{name} is the same snapshot as {seen[key]}: used once")
            continue
        seen[key] = name
        kept.append(snap)
    return kept, warnings


def _check_shards(snaps: list[Snapshot]) -> list[str]:
    """Shard snapshots must be every shard of one split, each once: a missing shard would
    otherwise vanish from the merged scan without a gap."""
    runs = sorted({str(s.extra.get("run_id") or "(none)") for s in snaps})
    if len(runs) > 1:
        raise SnapshotError(
            f"the snapshots come from different runs (run ids {', '.join(runs)}): merge the "
            f"shards of one run"
        )
    marks = [s.extra.get("shard") for s in snaps]
    if not any(marks):
        return []
    if not all(marks):
        raise SnapshotError("some snapshots are shards (--shard) and some are not: merge one split")
    parsed = sorted((int(i), int(n)) for i, n in (str(m).split("/") for m in marks))
    total = {n for _, n in parsed}
    if len(total) != 1:
        raise SnapshotError(f"the snapshots come from different splits: shards {marks}")
    n = total.pop()
    got = [i for i, _ in parsed]
    if got != list(range(n)):
        missing = sorted(set(range(n)) - set(got))
        twice = sorted({i for i in got if got.count(i) > 1})
        what = []
        if missing:
            what.append("missing " + ", ".join(f"{i}/{n}" for i in missing))
        if twice:
            what.append("given twice " + ", ".join(f"{i}/{n}" for i in twice))
        raise SnapshotError(f"incomplete set of shards: {'; '.join(what)}")
    return [f"{i}/{n}" for i, _ in parsed]
