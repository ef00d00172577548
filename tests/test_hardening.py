"""Issue 13, hardening: each test failed on the code before its fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.builders import FIXTURES
from tests.servers import sandbox_env


def test_a_reader_that_goes_away_keeps_the_computed_exit_code(tmp_path: Path) -> None:
    """`vpcaudit evaluate s.json | head` used to exit 0 (BrokenPipeError): it must still say
    1, findings, with no traceback."""
    env = sandbox_env(os.environ)
    # A reader that has gone before anything is written: the write fails with EPIPE.
    r, w = os.pipe()
    os.close(r)
    proc = subprocess.Popen(
        [sys.executable, "-m", "vpcaudit", "evaluate", str(FIXTURES / "endpoints.json"),
         "--format", "json"],
        stdout=w,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )  # fmt: skip
    os.close(w)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert b"Traceback" not in err and b"internal error" not in err


def _evaluate(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vpcaudit", "evaluate", str(FIXTURES / "endpoints.json"), *args],
        env={**sandbox_env(os.environ), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_reports_and_snapshots_get_restrictive_modes_whatever_the_umask(tmp_path: Path) -> None:
    """Writes used to follow the umask (0644: world-readable)."""
    from vpcaudit.snapshot import Snapshot  # noqa: PLC0415

    old = os.umask(0)
    try:
        r = _evaluate(tmp_path, "--format", "json", "-o", "r.json")
        Snapshot.load(FIXTURES / "endpoints.json").save(tmp_path / "s.json")
    finally:
        os.umask(old)
    assert r.returncode == 1, r.stderr
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "s.json").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    r = _evaluate(tmp_path, "-o", "r2.txt", VPCAUDIT_REPORT_MODE="0600")
    assert (tmp_path / "r2.txt").stat().st_mode & 0o777 == 0o600
    r = _evaluate(tmp_path, "-o", "r3.txt", VPCAUDIT_REPORT_MODE="rw-r")
    assert r.returncode == 2 and "octal" in r.stderr and r.stderr.count("\n") == 1


def test_a_symlink_at_the_target_is_refused_not_followed(tmp_path: Path) -> None:
    """A link planted at the report path used to be followed (overwriting its target)."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (tmp_path / "report.json").symlink_to(victim)
    r = _evaluate(tmp_path, "--format", "json", "-o", "report.json")
    assert r.returncode == 2
    assert "symbolic link" in r.stderr and r.stderr.count("\n") == 1
    assert victim.read_text() == "keep me\n"


def test_an_existing_report_is_replaced_whole(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text("x" * 10_000_000)
    r = _evaluate(tmp_path, "--format", "json", "-o", "r.json")
    assert r.returncode == 1
    assert (tmp_path / "r.json").read_text().startswith("{")


def test_debug_tracebacks_do_not_dump_frame_locals() -> None:
    """structlog's renderers showed frame locals: an ExternalId appeared three times a line."""
    import io  # noqa: PLC0415

    import structlog  # noqa: PLC0415

    from vpcaudit import logs  # noqa: PLC0415

    for fmt in ("json", "console"):
        stream = io.StringIO()
        logs.configure("debug", fmt, stream)

        def assume(external_id: str) -> None:
            secret_in_a_local = external_id
            raise RuntimeError("assume failed" + "" * len(secret_in_a_local))

        secret = "-".join(("ext", "id", "5f1c2e"))  # built, so no source line shows it
        try:
            assume(secret)
        except RuntimeError:
            structlog.get_logger("t").debug("internal_error", exc_info=True)
        text = stream.getvalue()
        assert "assume failed" in text, fmt
        assert secret not in text, fmt
    structlog.reset_defaults()


def test_an_org_scan_lists_the_management_account_it_leaves_out() -> None:
    """--org skipped the management account silently and still said "Coverage: complete"."""
    from vpcaudit.aws.targets import MANAGEMENT_SKIPPED, OrgAccounts, unscannable  # noqa: PLC0415

    org = OrgAccounts(
        "111111111111",
        (("111111111111", "mgmt", "ACTIVE"), ("222222222222", "app", "ACTIVE")),
    )
    assert unscannable(org, (), False) == [("111111111111", MANAGEMENT_SKIPPED)]
    assert unscannable(org, (), True) == []
    assert unscannable(org, (), False, exclude=("111111111111",)) == []
    assert unscannable(org, ("222222222222",), False) == []  # not asked for: nothing to say


def test_the_demo_scan_reports_the_skipped_management_account(tmp_path: Path) -> None:
    import json  # noqa: PLC0415

    from vpcaudit.demo.seed import MANAGEMENT_ACCOUNT  # noqa: PLC0415

    r = subprocess.run(
        [sys.executable, "-m", "vpcaudit", "scan", "--demo", "--format", "json", "-o", "r.json"],
        env=sandbox_env(os.environ),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert r.returncode == 1, r.stderr
    doc = json.loads((tmp_path / "r.json").read_text())
    skipped = [s for s in doc["scan"]["skipped"] if s["account_id"] == MANAGEMENT_ACCOUNT]
    assert skipped and "management account" in skipped[0]["reason"]


def _shard(i: int, n: int, run: str | None) -> object:
    import dataclasses  # noqa: PLC0415

    from tests.builders import SnapshotBuilder  # noqa: PLC0415

    snap = SnapshotBuilder().vpc(f"vpc-{i}", account=f"11111111111{i}").build()
    extra = {"shard": f"{i}/{n}", **({"run_id": run} if run else {})}
    return dataclasses.replace(snap, extra=extra)


def test_merge_refuses_shards_of_different_runs() -> None:
    """merge accepted last night's shard 0 with tonight's shard 1 without a word."""
    import pytest  # noqa: PLC0415

    from vpcaudit.errors import SnapshotError  # noqa: PLC0415
    from vpcaudit.snapshot import merge_snapshots  # noqa: PLC0415

    same = [_shard(0, 2, "night-1"), _shard(1, 2, "night-1")]
    assert merge_snapshots(same).extra["run_id"] == "night-1"  # type: ignore[arg-type]
    for runs in (("night-1", "night-2"), ("night-1", None)):
        mixed = [_shard(0, 2, runs[0]), _shard(1, 2, runs[1])]
        with pytest.raises(SnapshotError, match="different runs"):
            merge_snapshots(mixed)  # type: ignore[arg-type]


def test_the_same_shard_given_twice_is_used_once_with_a_warning() -> None:
    from vpcaudit.snapshot import drop_repeats, merge_snapshots  # noqa: PLC0415

    a, b = _shard(0, 2, "r"), _shard(1, 2, "r")
    kept, warnings = drop_repeats([a, b, a], ["s0.json", "s1.json", "copy-of-s0.json"])  # type: ignore[list-item]
    assert len(kept) == 2
    assert warnings == ["copy-of-s0.json is the same snapshot as s0.json: used once"]
    assert merge_snapshots(kept).extra["shards"] == ["0/2", "1/2"]


def test_a_shard_without_a_run_id_is_refused_before_any_call(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "vpcaudit", "scan", "--demo", "--shard", "0/2"],
        env=sandbox_env(os.environ),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 2
    assert "--shard needs --run-id" in r.stderr and r.stderr.count("\n") == 1


def _html_server() -> tuple[object, str]:
    """A server on 127.0.0.1 that answers every request with a proxy's HTML page."""
    import http.server  # noqa: PLC0415
    import threading  # noqa: PLC0415

    class Portal(http.server.BaseHTTPRequestHandler):
        def _page(self) -> None:
            body = b"<html><body>Welcome to Hotel WiFi: session-cookie=SECRET42</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _page

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Portal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def test_an_endpoint_that_does_not_answer_like_aws_is_named_not_called_a_bug(
    tmp_path: Path,
) -> None:
    """A proxy's HTML page used to end in 'internal error ... a bug' with the page echoed."""
    server, url = _html_server()
    try:
        r = subprocess.run(
            [sys.executable, "-m", "vpcaudit", "scan", "--region", "us-east-1"],
            env=sandbox_env(os.environ, endpoint=url),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        server.server_close()  # type: ignore[attr-defined]
    assert r.returncode == 2, r.stderr
    assert "did not answer like AWS" in r.stderr and r.stderr.count("\n") == 1
    assert "SECRET42" not in r.stderr and "bug" not in r.stderr


def test_any_failure_in_one_region_is_a_gap_and_the_scan_goes_on(
    monkeypatch: object,
) -> None:
    """An exception botocore does not wrap (here, a parse failure carrying a page) used to
    abort the whole organization scan with exit 4 and print the body."""
    import pytest  # noqa: PLC0415
    from botocore.parsers import ResponseParserError  # noqa: PLC0415

    from vpcaudit.aws import collect  # noqa: PLC0415
    from vpcaudit.demo import run_demo_scan  # noqa: PLC0415
    from vpcaudit.scan import ScanOptions  # noqa: PLC0415

    real = collect.collect_region
    mp = pytest.MonkeyPatch()

    def flaky(factory: object, account_id: str, region: str, *a: object) -> object:
        if region == "eu-west-1" and account_id.endswith(("0", "2", "4", "6", "8")):
            raise ResponseParserError("Unable to parse response: b'<html>SECRET42</html>'")
        if region == "eu-west-1":
            raise RuntimeError("boom\nsecond line with SECRET42")
        return real(factory, account_id, region, *a)  # type: ignore[arg-type]

    mp.setattr(collect, "collect_region", flaky)
    try:
        snap = run_demo_scan(ScanOptions())
    finally:
        mp.undo()
    eu = [g for g in snap.gaps if g.region == "eu-west-1"]
    us = [r for r in snap.regions if r.region == "us-east-1" and r.resources.get("vpcs")]
    assert eu and all(g.operation == "*" for g in eu)
    assert us, "the other region of every account was still read"
    assert not any("SECRET42" in g.message for g in snap.gaps)
    assert {g.error_code for g in eu} <= {"ResponseParserError", "RuntimeError"}


def test_org_scans_assume_the_read_only_role_and_warn_on_the_admin_one(
    capsys: object,
) -> None:
    """--org assumed OrganizationAccountAccessRole (full admin) unless told otherwise."""
    import pytest  # noqa: PLC0415

    from vpcaudit.args import build_parser  # noqa: PLC0415
    from vpcaudit.commands import scan_options  # noqa: PLC0415

    cap: pytest.CaptureFixture[str] = capsys  # type: ignore[assignment]
    opts = scan_options(build_parser().parse_args(["scan", "--org"]))
    assert opts.org_role_name == "vpcaudit-audit"
    assert cap.readouterr().err == ""
    admin = ["scan", "--org", "--org-role-name", "OrganizationAccountAccessRole"]
    opts = scan_options(build_parser().parse_args(admin))
    assert opts.org_role_name == "OrganizationAccountAccessRole"  # still works
    err = cap.readouterr().err
    assert err.startswith("vpcaudit: warning:") and "full admin" in err and err.count("\n") == 1


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    """A 325-byte policy of nested aliases took 46 s; anchors and aliases are now refused,
    as is nesting deeper than any policy needs and a file over 1 MiB."""
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcde", "bcdef", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    cases = {
        "bomb.yaml": ("\n".join(lines) + "\n", "anchors and aliases"),
        "deep.yaml": ("rules: " + "[" * 200 + "]" * 200 + "\n", "nested deeper"),
        "big.yaml": ("# " + "x" * (1024 * 1024) + "\n", "at most 1024 KiB"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        r = subprocess.run(
            [sys.executable, "-m", "vpcaudit", "policy", "check", name],
            env=sandbox_env(os.environ),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert r.returncode == 2, (name, r.stderr)
        assert message in r.stderr and r.stderr.count("\n") == 1, r.stderr


def _pods(doc: dict[str, object]) -> list[dict[str, object]]:
    spec: dict[str, object] = doc.get("spec") or {}  # type: ignore[assignment]
    if doc.get("kind") == "CronJob":
        spec = spec["jobTemplate"]["spec"]  # type: ignore[index]
    template = spec.get("template") if isinstance(spec, dict) else None
    return [template["spec"]] if template else []  # type: ignore[index]


def test_the_kubernetes_examples_pass_pod_security_restricted_and_hide_the_external_id() -> None:
    """The sharded Jobs had no securityContext or limits, none set seccomp or turned off the
    service account token, and the external id was on the command line (/proc/*/cmdline)."""
    import yaml  # noqa: PLC0415

    deploy = Path(__file__).parent.parent / "docs" / "deploy"
    pods = [
        (f.name, pod)
        for f in sorted(deploy.glob("kubernetes-*.yaml"))
        for doc in yaml.safe_load_all(f.read_text())
        for pod in _pods(doc or {})
    ]
    assert len(pods) == 3
    for name, pod in pods:
        assert pod["automountServiceAccountToken"] is False, name
        sec = pod["securityContext"]
        assert sec["runAsNonRoot"] is True and sec["seccompProfile"] == {"type": "RuntimeDefault"}
        for c in [*pod.get("initContainers", []), *pod["containers"]]:
            csec = c["securityContext"]
            assert csec["allowPrivilegeEscalation"] is False, (name, c["name"])
            assert csec["capabilities"] == {"drop": ["ALL"]}
            assert csec["readOnlyRootFilesystem"] is True
            assert c["resources"]["limits"], (name, c["name"])
            assert not any("external-id" in str(a) for a in c.get("args", [])), (name, c["name"])


def test_the_external_id_is_read_from_the_environment(monkeypatch: object) -> None:
    import pytest  # noqa: PLC0415

    from vpcaudit.args import build_parser  # noqa: PLC0415

    mp: pytest.MonkeyPatch = monkeypatch  # type: ignore[assignment]
    mp.setenv("VPCAUDIT_EXTERNAL_ID", "from-the-environment")
    assert build_parser().parse_args(["scan", "--org"]).external_id == "from-the-environment"
