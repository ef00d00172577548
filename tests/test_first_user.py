"""What a first-time user gets wrong, caught before the scan with one clear line (issue 14), and
the S3 owner and encryption settings of issue 13 (item 16).

Every mistake test asserts exit 2, nothing on stdout, exactly one `vpcaudit: error:` line on
stderr, and that no request left the process: botocore's Endpoint._send fails the test, so a
check that ran after the first AWS call (or not at all) shows up as a failure here.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.endpoint
import pytest
from botocore.stub import ANY, Stubber

from tests.builders import ACCOUNT, SnapshotBuilder
from vpcaudit import cli, destinations
from vpcaudit.formats import Format
from vpcaudit.report.outputs import EXTENSIONS
from vpcaudit.snapshot import Snapshot

OWNER = "123456789012"
"""The account the stubbed STS says the S3 credentials belong to."""


@pytest.fixture(autouse=True)
def no_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail the test on any HTTP request botocore would send (a stubbed client sends none)."""
    sent: list[str] = []

    def refuse(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(request.url)
        pytest.fail(f"an AWS request was sent: {request.url}")

    monkeypatch.setattr(botocore.endpoint.Endpoint, "_send", refuse)
    yield sent
    assert sent == []


def run(capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str, str]:
    """cli.main in-process: (exit code, stdout, stderr); argparse exits are caught."""
    capsys.readouterr()
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def one_error_line(capsys: pytest.CaptureFixture[str], *argv: Any) -> str:
    """Run the command line; assert the bad-input contract; return the error line."""
    code, out, err = run(capsys, *argv)
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vpcaudit: error: "), lines[0]
    return lines[0]


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    """A small snapshot of one account (one VPC without a flow log: one finding)."""
    b = SnapshotBuilder()
    b.vpc("vpc-0first", "10.0.0.0/16", name="first")
    path = tmp_path / "snap.json"
    b.build().save(path)
    return path


# -- S3 destinations and sources -----------------------------------------------------------


@pytest.mark.parametrize(
    ("dest", "says"),
    [
        ("s3:/audit-bucket", "expected s3://bucket/prefix/"),
        ("s3:audit-bucket/vpcaudit/", "expected s3://bucket/prefix/"),
        ("S3://audit-bucket/vpcaudit/", "lower-case s3://"),
        ("s3://Audit_Bucket/vpcaudit/", "not an S3 bucket name"),
        ("s3://ab/", "not an S3 bucket name"),
        ("s3:///vpcaudit/", "names no bucket"),
    ],
)
def test_report_to_a_malformed_s3_uri_is_refused_before_the_scan(
    dest: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # It used to be written on local disk as ./s3:/audit-bucket/ while the job looked healthy.
    os.chdir(tmp_path)
    line = one_error_line(capsys, "scan", "--report-to", dest)
    assert repr(dest) in line and says in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["scan", "--save-snapshot", "s3:/bucket/snap.json"], "--save-snapshot 's3:/bucket"),
        (["scan", "--save-snapshot", "s3://audit-bucket/runs/"], "names a prefix, not a file"),
        (["scan", "--output", "s3://audit-bucket/r.json"], "use --report-to s3://"),
        (["scan", "-o", "S3://audit-bucket/r.json"], "use --report-to s3://"),
        (["scan", "--output-sarif", "s3://audit-bucket/r.sarif"], "--output-sarif writes a local"),
        (["scan", "--baseline", "s3://audit-bucket/old.json"], "--baseline reads a local file"),
    ],
)
def test_scan_destinations_meant_as_s3(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert says in one_error_line(capsys, *argv)


@pytest.mark.parametrize(
    "src", ["s3:/audit-bucket/snap.json", "S3://audit-bucket/snap.json", "s3://audit-bucket/"]
)
def test_evaluate_source_meant_as_s3(src: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert f"SNAPSHOT {src!r}" in one_error_line(capsys, "evaluate", src)


def test_merge_output_and_sources_meant_as_s3(
    snap: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error_line(capsys, "merge", snap, "-o", "s3:/audit-bucket/merged.json")
    assert "merge --output 's3:/audit-bucket/merged.json'" in line
    line = one_error_line(capsys, "merge", snap, "s3:audit-bucket/x.json", "-o", "m.json")
    assert "SNAPSHOT 's3:audit-bucket/x.json'" in line


def test_bucket_owner_must_be_an_account_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert "12-digit" in one_error_line(capsys, "scan", "--bucket-owner", "12345")


# -- local destinations are proved writable --------------------------------------------------


def test_output_under_a_regular_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("a file, not a directory\n")
    out = tmp_path / "notes.txt" / "report.json"
    line = one_error_line(capsys, "scan", "--output", out)
    assert f"{tmp_path / 'notes.txt'} is not a directory" in line


def test_report_to_a_regular_file_or_below_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "reports").write_text("")
    assert "not a directory" in one_error_line(capsys, "scan", "--report-to", tmp_path / "reports")
    below = tmp_path / "reports" / "nightly"
    assert "not a directory" in one_error_line(capsys, "scan", "--report-to", below)


def test_save_snapshot_into_a_missing_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error_line(capsys, "scan", "--save-snapshot", tmp_path / "nope" / "s.json")
    assert "does not exist" in line


def test_a_directory_nobody_may_write(capsys: pytest.CaptureFixture[str]) -> None:
    """sysfs lets no one, root included, create a file: a directory that exists and that the
    mode bits may even call writable, and still refuses the report."""
    for argv in (["--output-json", "/sys/r.json"], ["--report-to", "/sys/vpcaudit-reports"]):
        line = one_error_line(capsys, "scan", *argv)
        assert "/sys" in line and "not writable" in line, line


def test_a_read_only_mount_is_caught_though_os_access_says_yes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """os.access answers from the mode bits (and always yes to root); only creating a file
    tells a read-only file system. Simulated here: the probe's mkstemp gets EROFS."""

    def erofs(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, "Read-only file system")

    assert os.access(tmp_path, os.W_OK)
    monkeypatch.setattr(tempfile, "mkstemp", erofs)
    for argv in (
        ["--output", tmp_path / "r.txt"],
        ["--report-to", tmp_path / "reports"],
        ["--save-snapshot", tmp_path / "s.json"],
    ):
        line = one_error_line(capsys, "scan", *argv)
        assert "Read-only file system" in line, line


def test_the_probe_leaves_nothing_behind(tmp_path: Path) -> None:
    destinations.check_file_destination(tmp_path / "r.json")
    destinations.check_dir_destination(str(tmp_path / "reports" / "nightly"))
    assert list(tmp_path.iterdir()) == []


# -- the home region -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("var", "value", "says"),
    [
        ("AWS_REGION", "us-eest-1", "did you mean us-"),
        ("AWS_DEFAULT_REGION", "useast1", "expected a name like us-east-1"),
        ("AWS_REGION", "eu-west-9", "did you mean"),
    ],
)
def test_a_mistyped_home_region_is_refused_before_sts(
    var: str,
    value: str,
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # It used to wait for STS's retries (11 s) and then blame the credentials.
    monkeypatch.setenv(var, value)
    line = one_error_line(capsys, "scan")
    assert f"unknown region {value!r} in {var}" in line and says in line
    assert "credentials" not in line


def test_a_mistyped_profile_region_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config"
    config.write_text("[profile audit]\nregion = eu-wset-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    line = one_error_line(capsys, "scan", "--profile", "audit")
    assert "unknown region 'eu-wset-1' in the region of AWS profile 'audit'" in line


def test_home_region_is_checked_before_an_s3_upload_of_evaluate(
    snap: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-eats-1")
    line = one_error_line(capsys, "evaluate", snap, "--report-to", "s3://audit-bucket/v/")
    assert "'us-eats-1' in AWS_DEFAULT_REGION" in line


# -- a report where a snapshot is expected -------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "kind"),
    [
        ("json", "a vpcaudit JSON report"),
        ("sarif", "a SARIF report"),
        ("markdown", "a Markdown report"),
        ("csv", "a CSV report"),
    ],
)
def test_evaluate_of_a_report_says_what_to_pass(
    fmt: str, kind: str, snap: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / f"report.{fmt}"
    code, _, err = run(capsys, "evaluate", snap, "--format", fmt, "-o", report)
    assert code == 1, err
    line = one_error_line(capsys, "evaluate", report)
    assert f"{report} is {kind}, not a snapshot" in line
    assert "--save-snapshot" in line
    assert ("vpcaudit diff" in line) == (fmt == "json")
    line = one_error_line(capsys, "merge", snap, report, "-o", tmp_path / "m.json")
    assert f"{report} is {kind}" in line


def test_a_damaged_snapshot_is_not_called_a_report(
    snap: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(snap.read_text())
    doc["schema_version"] = 99
    snap.write_text(json.dumps(doc))
    assert "schema_version 99" in one_error_line(capsys, "evaluate", snap)


# -- usage, and what was meant -----------------------------------------------------------------


@pytest.mark.parametrize(("argv", "prog"), [([], "vpcaudit"), (["policy"], "vpcaudit policy")])
def test_bare_command_prints_its_usage(
    argv: list[str], prog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith(f"usage: {prog} ")
    assert "Traceback" not in err and "error:" not in err
    assert ("check" if argv else "evaluate") in err
    assert len(err.splitlines()) > 3


@pytest.mark.parametrize(
    ("argv", "meant"),
    [
        (["scan", "--regoin", "us-east-1"], "did you mean --region?"),
        (["scan", "--report-too", "out/"], "did you mean --report-to?"),
        (["evaluate", "s.json", "--formt", "json"], "did you mean --format?"),
        (["scna"], "did you mean scan?"),
        (["policy", "chekc", "p.yaml"], "did you mean check?"),
        (["scan", "--format", "jsno"], "did you mean json?"),
    ],
)
def test_a_mistyped_word_gets_the_close_one(
    argv: list[str], meant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert one_error_line(capsys, *argv).endswith(meant)


def test_options_of_another_command_are_not_suggested(capsys: pytest.CaptureFixture[str]) -> None:
    # --save-snapshot belongs to scan: evaluate must not suggest it.
    line = one_error_line(capsys, "evaluate", "s.json", "--save-snapshots", "x")
    assert "did you mean" not in line


# -- -o FILE picks the format from its extension -------------------------------------------


@pytest.mark.parametrize("fmt", list(Format))
def test_output_extension_sets_the_format(
    fmt: Format, snap: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"report.{EXTENSIONS[fmt]}"
    code, stdout, err = run(capsys, "evaluate", snap, "-o", out)
    assert (code, stdout, err) == (1, "", "")
    direct = tmp_path / "direct"
    run(capsys, "evaluate", snap, "--format", fmt.value, "-o", direct)
    assert out.read_text() == direct.read_text()


def test_a_contradicting_format_wins_with_a_warning(
    snap: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.md"
    code, _, err = run(capsys, "evaluate", snap, "--format", "json", "-o", out)
    assert code == 1
    assert err.splitlines() == [
        f"vpcaudit: warning: writing json to {out} as --format says, though its extension "
        "means markdown"
    ]
    assert json.loads(out.read_text())["findings"]


def test_an_unknown_extension_is_a_table(
    snap: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.out"
    assert run(capsys, "evaluate", snap, "-o", out)[:3] == (1, "", "")
    assert out.read_text().startswith("vpcaudit ")


# -- S3: ExpectedBucketOwner and SSE-KMS (issue 13, item 16) -------------------------------


class StubbedS3:
    """Stubbed S3 and STS clients handed to destinations.S3Access in place of real ones."""

    def __init__(self) -> None:
        self.clients = {name: boto3.client(name, region_name="us-east-1") for name in ("s3", "sts")}
        self.stubs = {name: Stubber(c) for name, c in self.clients.items()}
        self.made: list[str] = []
        for stub in self.stubs.values():
            stub.activate()

    def client(self, access: destinations.S3Access, service: str) -> Any:
        self.made.append(service)
        return self.clients[service]

    def caller(self, account: str = OWNER) -> None:
        self.stubs["sts"].add_response(
            "get_caller_identity",
            {"Account": account, "Arn": f"arn:aws:iam::{account}:role/job", "UserId": "AROAX"},
            {},
        )

    def put(self, params: dict[str, Any]) -> None:
        self.stubs["s3"].add_response("put_object", {"ETag": '"x"'}, params)

    def done(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> StubbedS3:
    stubbed = StubbedS3()

    def client(access: destinations.S3Access, service: str) -> Any:
        # A plain function (a bound method would not receive the S3Access as self).
        return stubbed.client(access, service)

    monkeypatch.setattr(destinations.S3Access, "_client", client)
    return stubbed


def put_params(key: str, body: str, owner: str, **extra: str) -> dict[str, Any]:
    return {
        "Bucket": "audit-bucket",
        "Key": key,
        "Body": body.encode(),
        "ContentType": "application/json",
        "ExpectedBucketOwner": owner,
        **extra,
    }


def test_put_sends_the_owner_and_sse_kms(s3: StubbedS3) -> None:
    key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    s3.put(
        put_params(
            "v/r.json", "{}", "111122223333", ServerSideEncryption="aws:kms", SSEKMSKeyId=key
        )
    )
    access = destinations.S3Access(bucket_owner="111122223333", kms_key_id=key)
    destinations.write_text("s3://audit-bucket/v/r.json", "{}", access)
    s3.done()
    assert s3.made == ["s3"]  # an owner given: no GetCallerIdentity


def test_the_default_owner_is_the_credentials_account_asked_once(s3: StubbedS3) -> None:
    s3.caller()
    s3.put(put_params("v/a.json", "1", OWNER))
    s3.put(put_params("v/b.json", "2", OWNER))
    access = destinations.S3Access()
    destinations.write_text("s3://audit-bucket/v/a.json", "1", access)
    destinations.write_text("s3://audit-bucket/v/b.json", "2", access)
    s3.done()
    assert sorted(s3.made) == ["s3", "sts"]


def test_get_sends_the_owner(s3: StubbedS3) -> None:
    s3.caller()

    class Body:
        """A StreamingBody stand-in: read() is all read_text uses."""

        def read(self) -> bytes:
            return b"hello"

    s3.stubs["s3"].add_response(
        "get_object",
        {"Body": Body()},
        {"Bucket": "audit-bucket", "Key": "runs/s.json", "ExpectedBucketOwner": OWNER},
    )
    assert destinations.read_text("s3://audit-bucket/runs/s.json", destinations.S3Access()) == (
        "hello"
    )
    s3.done()


def test_evaluate_report_to_s3_with_owner_and_key(
    s3: StubbedS3, snap: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("vpcaudit-20240601T115800Z.json", "latest.json"):
        s3.stubs["s3"].add_response(
            "put_object",
            {},
            {
                "Bucket": "audit-bucket",
                "Key": f"v/{name}",
                "Body": ANY,
                "ContentType": "application/json",
                "ExpectedBucketOwner": "210987654321",
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": "alias/vpcaudit",
            },
        )
    code, _, err = run(
        capsys,
        "evaluate",
        snap,
        "--format",
        "json",
        "--report-to",
        "s3://audit-bucket/v/",
        "--report-formats",
        "json",
        "--bucket-owner",
        "210987654321",
        "--sse-kms-key-id",
        "alias/vpcaudit",
    )
    assert code == 1, err
    s3.done()


def test_a_wrong_bucket_owner_is_one_line_exit_2(
    s3: StubbedS3, snap: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # S3 answers 403 AccessDenied when the bucket belongs to another account than expected.
    s3.stubs["s3"].add_client_error("put_object", "AccessDenied", "Access Denied", 403)
    line = one_error_line(
        capsys,
        "evaluate",
        snap,
        "--report-to",
        "s3://audit-bucket/v/",
        "--report-formats",
        "json",
        "--bucket-owner",
        "210987654321",
    )
    assert "cannot upload s3://audit-bucket/v/" in line
    assert "must belong to account 210987654321" in line and "--bucket-owner" in line


def test_scan_of_its_own_account_needs_no_second_identity_call(
    s3: StubbedS3, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scan of the credentials' own account already knows whose they are: the snapshot's
    one account is the expected owner, and S3Access makes no STS client."""
    builder = SnapshotBuilder()
    builder.vpc("vpc-0own", "10.0.0.0/16")
    built: Snapshot = builder.build()
    monkeypatch.setattr("vpcaudit.commands.live_snapshot", lambda args: built)
    s3.put(put_params("runs/s.json", "", ACCOUNT) | {"Body": ANY})
    code, _, err = run(
        capsys, "scan", "--save-snapshot", "s3://audit-bucket/runs/s.json", "--fail-on", "none"
    )
    assert code == 0, err
    s3.done()
    assert s3.made == ["s3"]


# -- README quick start and the KMS grant --------------------------------------------------

REPO = Path(__file__).parent.parent


def test_readme_quick_start_makes_a_venv_first_and_names_the_python() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    quick = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    block = quick.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    # A stock Debian/Ubuntu Python refuses pip outside a virtual environment (PEP 668).
    assert block[0].startswith("python3 -m venv .venv && . .venv/bin/activate")
    assert any(x.startswith("pip install '.[demo]' && vpcaudit scan --demo") for x in block)
    assert any(x.startswith("pip install -e '.[dev,demo]' && python -m pytest -q") for x in block)
    assert "Python 3.11" in quick and "pipx install" in quick
    pyproject = (REPO / "pyproject.toml").read_text("utf-8")
    assert 'requires-python = ">=3.11"' in pyproject


@pytest.mark.parametrize("doc", ["README.md", "docs/deploy/README.md"])
def test_docker_build_comes_before_docker_run(doc: str) -> None:
    text = (REPO / doc).read_text("utf-8")
    assert "docker build -t vpcaudit ." in text
    assert text.index("docker build -t vpcaudit .") < text.index("docker run")


@pytest.mark.parametrize(
    "policy", ["docs/deploy/iam-job-role.json", "policies/iam/vpcaudit-reports-s3.json"]
)
def test_sse_kms_grant_is_on_one_key_through_s3_only(policy: str) -> None:
    doc = json.loads((REPO / policy).read_text("utf-8"))
    kms = [s for s in doc["Statement"] if any(a.startswith("kms:") for a in s["Action"])]
    assert len(kms) == 1
    (stmt,) = kms
    assert set(stmt["Action"]) == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert stmt["Resource"].startswith("arn:aws:kms:") and ":key/" in stmt["Resource"]
    assert stmt["Condition"]["StringEquals"]["kms:ViaService"].startswith("s3.")


def test_path_snapshot_meant_as_s3_or_a_report(
    snap: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error_line(capsys, "path", "vpc-0first", "internet", "--snapshot", "s3:/b/s.json")
    assert "--snapshot 's3:/b/s.json' is not an S3 URI" in line
    report = tmp_path / "r.json"
    run(capsys, "evaluate", snap, "-o", report)
    line = one_error_line(capsys, "path", "vpc-0first", "internet", "--snapshot", report)
    assert f"{report} is a vpcaudit JSON report, not a snapshot" in line
