"""moto served over HTTP on 127.0.0.1, with injected latency and faults, for tests and bench/.

Real AWS answers in tens of milliseconds and sometimes says no: it throttles, it refuses a
region or a role. moto answers at CPU speed and never refuses. `FaultyAws` is a WSGI
middleware around moto's server app that adds both, so the scanner's real HTTP path can be
exercised against them:

- `latency`: seconds slept before each request (a stand-in for a real API round trip);
- `faults`: rules that answer a matching request with an AWS error instead of passing it on,
  for every match or for a deterministic share of them (every k-th), so retries can succeed.

It listens on loopback only, and answers the calls moto lacks (see
fidelity.answer_unimplemented) as the in-process demo does.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from vpcaudit.demo.fidelity import answer_unimplemented

LOOPBACK = "127.0.0.1"
_CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/")
_ROLE_ACCOUNT = re.compile(r"arn:[^:]+:iam::(\d{12}):role/")

StartResponse = Callable[..., Any]


@dataclass
class Fault:
    """Answer matching requests with an AWS error instead of passing them to moto."""

    code: str
    """AWS error code, e.g. AccessDenied, UnauthorizedOperation, RequestLimitExceeded."""
    status: int = 403
    action: str | None = None
    """API action (DescribeFlowLogs, AssumeRole, ...); None matches any."""
    service: str | None = None
    """ec2, sts, organizations; None matches any."""
    region: str | None = None
    account: str | None = None
    """The account whose credentials signed the request."""
    role_account: str | None = None
    """For AssumeRole: the account of the role asked for."""
    every: int = 1
    """Fail every k-th matching request (1: all of them)."""
    message: str = "injected by vpcaudit's test server"
    _seen: int = field(default=0, repr=False)

    def matches(self, req: RequestInfo) -> bool:
        """True when the request is one this fault is about."""
        wanted = (
            (self.action, req.action),
            (self.service, req.service),
            (self.region, req.region),
            (self.account, req.account),
            (self.role_account, req.role_account),
        )
        return all(want is None or want == got for want, got in wanted)

    def fires(self) -> bool:
        """Count a matching request; True when this one fails."""
        self._seen += 1
        return self._seen % self.every == 0


@dataclass(frozen=True)
class RequestInfo:
    """What the middleware reads of a request to match faults."""

    service: str
    action: str
    region: str
    account: str
    role_account: str | None


def _account_of(access_key: str) -> str:
    from moto.iam.models import get_account_id_from  # noqa: PLC0415 - moto is a demo extra

    return str(get_account_id_from(access_key))


def _request_info(environ: dict[str, Any], body: bytes) -> RequestInfo:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = _CREDENTIAL.search(auth)
    access_key, region, service = (m[1], m[2], m[3]) if m else ("", "", "")
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    params = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if not target else {}
    action = target.rsplit(".", 1)[-1] if target else (params.get("Action") or [""])[0]
    role = _ROLE_ACCOUNT.match((params.get("RoleArn") or [""])[0])
    return RequestInfo(
        service=service,
        action=action,
        region=region,
        account=_account_of(access_key) if access_key else "",
        role_account=role[1] if role else None,
    )


def _error_body(req: RequestInfo, fault: Fault) -> tuple[bytes, str]:
    if req.service == "ec2":
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
            f"<Code>{fault.code}</Code><Message>{fault.message}</Message></Error></Errors>"
            "<RequestID>vpcaudit-fault</RequestID></Response>"
        )
        return xml.encode(), "text/xml"
    if req.service in ("sts", "iam"):
        xml = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{fault.code}</Code><Message>{fault.message}</Message></Error>"
            "<RequestId>vpcaudit-fault</RequestId></ErrorResponse>"
        )
        return xml.encode(), "text/xml"
    doc = {"__type": fault.code, "message": fault.message}
    return json.dumps(doc).encode(), "application/x-amz-json-1.1"


class FaultyAws:
    """WSGI middleware: latency and faults in front of moto's server application."""

    def __init__(self, app: Any, latency: float = 0.0, faults: Iterable[Fault] = ()) -> None:
        """Wrap a WSGI app (moto's) with a per-request latency and a list of faults."""
        self.app = app
        self.latency = latency
        self.faults = list(faults)
        self.requests: Counter[str] = Counter()
        """Requests received, by service:action (retried attempts included)."""
        self.failed: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request: sleep, maybe fail it, else pass it to moto."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        req = _request_info(environ, body)
        key = f"{req.service}:{req.action}"
        with self._lock:
            self.requests[key] += 1
            fault = next((f for f in self.faults if f.matches(req) and f.fires()), None)
            if fault is not None:
                self.failed[key] += 1
        if self.latency:
            time.sleep(self.latency)
        if fault is None:
            result: Iterable[bytes] = self.app(environ, start_response)
            return result
        payload, ctype = _error_body(req, fault)
        start_response(
            f"{fault.status} Injected",
            [("Content-Type", ctype), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    def reset_counts(self) -> None:
        """Forget the request counts (e.g. after seeding)."""
        with self._lock:
            self.requests.clear()
            self.failed.clear()


@contextmanager
def serve(latency: float = 0.0, faults: Iterable[Fault] = ()) -> Iterator[tuple[str, FaultyAws]]:
    """Run moto behind FaultyAws on 127.0.0.1 (a free port); yield (endpoint URL, middleware)."""
    from moto.moto_server.werkzeug_app import (  # noqa: PLC0415 - moto is a demo extra
        DomainDispatcherApplication,
        create_backend_app,
    )
    from werkzeug.serving import make_server  # noqa: PLC0415 - comes with moto[server]

    # werkzeug logs a line per request; at 50 ms latency and thousands of calls that drowns
    # every other output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = FaultyAws(DomainDispatcherApplication(create_backend_app), latency, faults)
    server = make_server(LOOPBACK, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="moto-server", daemon=True)
    with answer_unimplemented():
        thread.start()
        try:
            yield f"http://{LOOPBACK}:{server.server_port}", app
        finally:
            server.shutdown()
            thread.join()
