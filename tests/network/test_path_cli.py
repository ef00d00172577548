"""`vpcaudit path` on a saved snapshot: verdicts as exit codes, the three formats, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.builders import (
    FIXTURES,
    OTHER_ACCOUNT,
    Side,
    SnapshotBuilder,
    nacl_entry,
    open_nacl_entries,
    permission,
    route,
)
from vpcaudit.cli import main


def _topology() -> SnapshotBuilder:
    """Two peered VPCs in two accounts: web (10.0.1.10) reaches db (10.1.1.10) on 5432 only;
    db's subnet ACL lets replies out only to 10.0.1.0/24 ephemeral ports; a third VPC is
    peered from an account that was not scanned."""
    b = SnapshotBuilder()
    b.vpc("vpc-web", "10.0.0.0/16").subnet("subnet-web", "vpc-web", "10.0.1.0/24")
    b.subnet("subnet-batch", "vpc-web", "10.0.2.0/24")
    b.vpc("vpc-db", "10.1.0.0/16", account=OTHER_ACCOUNT)
    b.subnet("subnet-db", "vpc-db", "10.1.1.0/24", account=OTHER_ACCOUNT)
    b.peering("pcx-webdb", "vpc-web", "vpc-db")
    b.route_table(
        "rtb-web",
        "vpc-web",
        main=True,
        subnets=["subnet-web", "subnet-batch"],
        routes=[route("10.1.0.0/16", "pcx-webdb"), route("10.9.0.0/16", "pcx-far")],
    )
    b.route_table(
        "rtb-db",
        "vpc-db",
        main=True,
        subnets=["subnet-db"],
        routes=[route("10.0.0.0/16", "pcx-webdb")],
        account=OTHER_ACCOUNT,
    )
    b.network_acl(
        "acl-web", "vpc-web", subnets=["subnet-web", "subnet-batch"], entries=open_nacl_entries()
    )
    b.network_acl(
        "acl-db",
        "vpc-db",
        subnets=["subnet-db"],
        account=OTHER_ACCOUNT,
        entries=[
            nacl_entry(100, cidr="10.0.0.0/16"),
            nacl_entry(100, egress=True, protocol="6", ports=(1024, 65535), cidr="10.0.1.0/24"),
        ],
    )
    b.security_group("sg-web", "vpc-web")
    b.security_group(
        "sg-db",
        "vpc-db",
        ingress=[permission("tcp", 5432, cidrs=["10.0.0.0/16"])],
        account=OTHER_ACCOUNT,
    )
    b.network_interface("eni-web", "subnet-web", private_ip="10.0.1.10", groups=["sg-web"])
    b.network_interface("eni-batch", "subnet-batch", private_ip="10.0.2.10", groups=["sg-web"])
    b.network_interface(
        "eni-db", "subnet-db", private_ip="10.1.1.10", groups=["sg-db"], account=OTHER_ACCOUNT
    )
    b.peering("pcx-far", "vpc-web", Side("999999999999", "us-east-1", "vpc-far", ("10.9.0.0/16",)))
    return b


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("path") / "snap.json"
    path.write_text(_topology().build().dumps())
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_reachable_exits_0_and_shows_both_paths(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = _run(
        capsys, "path", "eni-web", "eni-db", "--protocol", "tcp", "--port", "5432",
        "--snapshot", str(snapshot),
    )  # fmt: skip
    assert rc == 0
    assert "verdict: REACHABLE" in out
    assert "forward path:" in out and "return path:" in out
    assert "pcx-webdb" in out and "rtb-db" in out


def test_reply_denied_by_nacl_exits_1_with_the_rule_in_json(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # batch (10.0.2.10) gets in (ingress allows 10.0.0.0/16) but db's ACL lets replies out
    # only to 10.0.1.0/24: the final "*" rule drops them.
    rc, out, _ = _run(
        capsys, "path", "10.0.2.10", "10.1.1.10", "--protocol", "tcp", "--port", "5432",
        "--snapshot", str(snapshot), "--format", "json",
    )  # fmt: skip
    doc = json.loads(out)
    assert rc == 1
    assert doc["kind"] == "vpcaudit-path"
    assert (doc["verdict"], doc["code"], doc["direction"]) == (
        "not-reachable",
        "NACL_EGRESS_DENIED",
        "return",
    )
    assert doc["blocking"]["id"] == "acl-db"
    assert doc["blocking"]["rule"] == "32767"
    assert "create-network-acl-entry --network-acl-id acl-db --egress" in doc["fix"]


def test_security_group_block_and_mermaid(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = _run(
        capsys, "path", "eni-web", "eni-db", "--protocol", "tcp", "--port", "22",
        "--snapshot", str(snapshot), "--format", "mermaid",
    )  # fmt: skip
    assert rc == 1
    assert out.startswith("```mermaid\nflowchart LR\n")
    assert "SG_INGRESS_DENIED" in out
    assert "fill:#fdd" in out


def test_unscanned_account_is_unknown_exit_3(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = _run(capsys, "path", "eni-web", "10.9.0.5", "--snapshot", str(snapshot))
    assert rc == 3
    assert "UNKNOWN" in out and "UNSCANNED_ACCOUNT" in out and "999999999999" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eni-webb", "eni-db"], "did you mean eni-web?"),
        (["10.0.1.300", "eni-db"], "is not a valid IP address"),
        (["eni-web", "eni-db", "--port", "22"], "--port needs --protocol tcp or udp"),
        (["eni-web", "eni-db", "--protocol", "icmp", "--port", "1"], "--port needs"),
        (["eni-web", "eni-db", "--protocol", "tcp", "--port", "70000"], "not a port number"),
        (["s3", "eni-db"], "can only be a destination"),
        (["nonsense", "eni-db"], "expected an eni-/i-/subnet-/vpce- id"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    snapshot: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    rc, out, err = _run(capsys, "path", *argv, "--snapshot", str(snapshot))
    assert rc == 2
    assert out == ""
    assert err.count("\n") == 1 and message in err, err


def test_a_snapshot_without_the_network_kinds_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = FIXTURES / "cross_account_peering.json"
    rc, _, err = _run(capsys, "path", "10.0.0.5", "10.1.0.5", "--snapshot", str(old))
    assert rc == 2
    assert "lacks" in err and "network_acls" in err and err.count("\n") == 1


@pytest.mark.parametrize("cols", [80, 100])
def test_the_table_fits_a_narrow_terminal_and_the_fix_still_pastes(
    snapshot: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, cols: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(cols))
    rc, out, _ = _run(
        capsys, "path", "10.0.2.10", "10.1.1.10", "--protocol", "tcp", "--port", "5432",
        "--snapshot", str(snapshot),
    )  # fmt: skip
    assert rc == 1
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= cols, out
    # The fix, joined back from its backslash continuations, is the command the JSON carries.
    start = lines.index("fix:") + 1
    command = []
    for line in lines[start:]:
        command.append(line.strip().removesuffix("\\").strip())
        if not line.endswith("\\"):
            break
    _, doc, _ = _run(
        capsys, "path", "10.0.2.10", "10.1.1.10", "--protocol", "tcp", "--port", "5432",
        "--snapshot", str(snapshot), "--format", "json",
    )  # fmt: skip
    assert " ".join(command) == json.loads(doc)["fix"].split("  # ")[0]
    assert "1. security-group" in out  # stacked, not a wide table
