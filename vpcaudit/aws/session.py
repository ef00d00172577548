"""Sessions and clients: profiles, credentials checks, retries, and the read-only guard."""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.client
import botocore.exceptions
import botocore.hooks
from botocore.config import Config
from botocore.parsers import ResponseParserError

from vpcaudit import __version__
from vpcaudit.aws import guard
from vpcaudit.errors import ConfigError, CredentialsError

DEFAULT_REGION = "us-east-1"

SessionHook = Callable[[boto3.Session], None]


def client_config(max_attempts: int = 10) -> Config:
    """Client settings for every scanner call: adaptive retries and bounded timeouts."""
    return Config(
        # total_max_attempts counts the first try too (max_attempts counts retries only).
        retries={"mode": "adaptive", "total_max_attempts": max_attempts},
        connect_timeout=5,
        read_timeout=20,
        max_pool_connections=32,
        user_agent_extra=f"vpcaudit/{__version__}",
    )


@dataclass
class CallCounter:
    """Counts API calls (and retried attempts) made through a session, thread-safely."""

    calls: int = 0
    attempts: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def on_call(self, model: Any, **_: Any) -> None:
        """before-call handler: one logical API call."""
        name = f"{model.service_model.service_name}:{model.name}"
        with self._lock:
            self.calls += 1
            self.by_operation[name] = self.by_operation.get(name, 0) + 1

    def on_send(self, **_: Any) -> None:
        """before-send handler: one HTTP attempt (a retry is another attempt)."""
        with self._lock:
            self.attempts += 1

    def add(self, calls: int, attempts: int, by_operation: dict[str, int]) -> None:
        """Add another counter's figures (a worker process's)."""
        with self._lock:
            self.calls += calls
            self.attempts += attempts
            for name, n in by_operation.items():
                self.by_operation[name] = self.by_operation.get(name, 0) + n


# botocore builds a new client class for every client: one method, docstring and operation
# model per API operation (about 750 for EC2), 25-40 ms of CPU and most of a client's memory
# (measured in bench/: 54 % of an organization scan's CPU went to creating the clients of
# 340 account-regions). The class depends only on the service model and the session's
# creating-client-class handlers, which are the same for every session this module makes, so
# the clients made by a ClientFactory share one class per service and API version. Credentials,
# region, endpoint and event handlers (the read-only guard among them) stay per client.
_SHARED_CLASS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "vpcaudit_shared_client_class", default=False
)
_CLASSES: dict[tuple[str, str], type] = {}
_MODELS: dict[tuple[str, str | None], Any] = {}
_CLASSES_LOCK = threading.Lock()
_CREATOR: Any = botocore.client.ClientCreator  # private methods, untyped in the stubs
# Private botocore methods: a botocore that renames them keeps its own (slower) behaviour.
_ORIGINAL_CREATE_CLASS: Any = getattr(_CREATOR, "_create_client_class", None)
_ORIGINAL_LOAD_MODEL: Any = getattr(_CREATOR, "_load_service_model", None)


def _create_client_class(self: Any, service_name: str, service_model: Any) -> type:
    """botocore's _create_client_class, memoized for clients made by a ClientFactory only."""
    if not _SHARED_CLASS.get():
        return _ORIGINAL_CREATE_CLASS(self, service_name, service_model)  # type: ignore[no-any-return]
    key = (service_name, str(service_model.api_version))
    with _CLASSES_LOCK:
        cls = _CLASSES.get(key)
        if cls is None:
            cls = _ORIGINAL_CREATE_CLASS(self, service_name, service_model)
            _CLASSES[key] = cls
        return cls


def _load_service_model(self: Any, service_name: str, api_version: str | None = None) -> Any:
    """botocore's _load_service_model, memoized likewise: a ServiceModel builds its operation
    models lazily and keeps them, and each new one builds all of them again when the client's
    endpoint discovery scans its operations (18 % of the scan's CPU, measured)."""
    if not _SHARED_CLASS.get():
        return _ORIGINAL_LOAD_MODEL(self, service_name, api_version)
    key = (service_name, api_version)
    with _CLASSES_LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = _ORIGINAL_LOAD_MODEL(self, service_name, api_version)
            _MODELS[key] = model
        return model


# A client's event emitter renames events through an alias table, memoizing each name in a
# dict that every new client starts empty (12 % of the scan's CPU after the fixes above,
# measured): the names depend only on the table, so our clients share one memo.
_ALIASES: dict[str, str] = {}


def _share_alias_memo(client: Any) -> None:
    events: Any = client.meta.events
    if (
        type(events) is botocore.hooks.EventAliaser
        and getattr(events, "_event_aliases", None) == botocore.hooks.EVENT_ALIASES
        and isinstance(getattr(events, "_alias_name_cache", None), dict)
    ):
        setattr(events, "_alias_name_cache", _ALIASES)  # noqa: B010 - private, untyped


def _share_client_classes() -> None:
    """Install the memoized builders (idempotent; they defer to botocore's own for every
    client not made by a ClientFactory)."""
    if _ORIGINAL_CREATE_CLASS is None or _ORIGINAL_LOAD_MODEL is None:
        return
    if _CREATOR._create_client_class is not _create_client_class:
        _CREATOR._create_client_class = _create_client_class
        _CREATOR._load_service_model = _load_service_model


class ClientFactory:
    """Makes guarded clients from one boto3 session and caches them per (service, region).

    boto3 sessions are not thread-safe but its clients are, so clients are created under a
    lock and then shared by the worker threads.
    """

    def __init__(self, session: boto3.Session, counter: CallCounter | None = None) -> None:
        """Wrap a session, installing the read-only guard and the call counter on it."""
        self.session = session
        self.counter = counter or CallCounter()
        self._config = client_config()
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        _share_client_classes()
        events = session.events
        guard.install(events)
        events.register("before-call", self.counter.on_call, unique_id="vpcaudit-count-call")
        events.register("before-send", self.counter.on_send, unique_id="vpcaudit-count-send")

    @property
    def home_region(self) -> str:
        """The session's configured region, or us-east-1."""
        return self.session.region_name or DEFAULT_REGION

    def new_client(self, service: Any, **kwargs: Any) -> Any:
        """An uncached client in the home region (for callers that pass their own keys)."""
        with self._lock:
            return self.session.client(
                service, region_name=self.home_region, config=self._config, **kwargs
            )

    def client(self, service: Any, region: str | None = None) -> Any:
        """A cached, guarded client for the service in the region."""
        key = (service, region or self.home_region)
        with self._lock:
            if key not in self._clients:
                token = _SHARED_CLASS.set(True)
                try:
                    made = self.session.client(service, region_name=key[1], config=self._config)
                finally:
                    _SHARED_CLASS.reset(token)
                _share_alias_memo(made)
                self._clients[key] = made
            return self._clients[key]

    def release(self, region: str, services: Iterable[str]) -> None:
        """Close and forget a region's clients of these services once its task is done: an
        organization scan makes thousands, and each holds a connection pool."""
        wanted = set(services)
        with self._lock:
            done = [k for k in self._clients if k[1] == region and k[0] in wanted]
            clients = [self._clients.pop(k) for k in done]
        for client in clients:
            client.close()

    def warm(self, services: Iterable[str]) -> None:
        """Parse the services' models once, before worker threads would all miss botocore's
        (unlocked) model cache together and parse them each."""
        loader = self.session._session.get_component("data_loader")
        for service in services:
            loader.load_service_model(service, "service-2")
            loader.load_service_model(service, "endpoint-rule-set-1")


def make_session(
    profile: str | None = None, region: str | None = None, hook: SessionHook | None = None
) -> boto3.Session:
    """Open a boto3 session for a profile (or the default chain), as one clear error if bad."""
    # boto3 reads only AWS_DEFAULT_REGION; AWS_REGION is what ECS, EKS and the other SDKs set
    # (and the AWS CLI v2 prefers it), so honour it too.
    region = region or os.environ.get("AWS_REGION") or None
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except botocore.exceptions.ProfileNotFound as exc:
        # The name may come from AWS_PROFILE rather than --profile: report the one botocore used.
        name = exc.kwargs.get("profile") or profile
        raise ConfigError(f"AWS profile {name!r} was not found in the AWS config files") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise ConfigError(f"cannot open AWS session: {exc}") from None
    # Regional STS endpoints issue tokens valid in every region, opt-in regions included, and
    # keep working when the global endpoint is unreachable.
    session._session.set_config_variable("sts_regional_endpoints", "regional")
    if hook is not None:
        hook(session)
    return session


def identify(factory: ClientFactory) -> str:
    """Return the account id behind the session's credentials, or raise CredentialsError."""
    try:
        ident = factory.client("sts").get_caller_identity()
    except botocore.exceptions.NoCredentialsError:
        raise CredentialsError(
            "no AWS credentials found: pass --profile, set AWS_PROFILE, or run with a role"
        ) from None
    except botocore.exceptions.ClientError as exc:
        code, message = error_parts(exc)
        raise CredentialsError(f"AWS credentials were refused ({code}): {message}") from None
    except botocore.exceptions.ProfileNotFound as exc:
        raise ConfigError(f"AWS profile not found: {exc}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise CredentialsError(f"cannot verify AWS credentials: {exc}") from None
    except (ResponseParserError, KeyError, ValueError, TypeError):
        # botocore could not read the answer (a proxy's or captive portal's page): name the
        # endpoint, do not blame vpcaudit, do not echo the page.
        ident = {}
    if not isinstance(ident, dict) or not ident.get("Account"):
        endpoint = factory.client("sts").meta.endpoint_url
        raise ConfigError(
            f"{endpoint} did not answer like AWS STS (its response could not be read): a "
            f"proxy, a captive portal, or a wrong AWS_ENDPOINT_URL?"
        )
    return str(ident["Account"])


def error_parts(exc: botocore.exceptions.ClientError) -> tuple[str, str]:
    """The error code and message of a ClientError."""
    err = exc.response.get("Error", {})
    code = str(err.get("Code") or "Unknown")
    message = str(err.get("Message") or exc)
    return code, message


NOT_AWS = (
    "the endpoint did not answer like AWS (its response could not be parsed: a proxy, a "
    "captive portal, or a wrong AWS_ENDPOINT_URL?)"
)


def describe_failure(exc: BaseException) -> str:
    """One line saying what failed, never echoing a response body (it may be a proxy's page
    or carry data that is not ours to print)."""
    if isinstance(exc, ResponseParserError):
        return NOT_AWS
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return first[:300]
