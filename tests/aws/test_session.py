"""Sessions honour the standard AWS environment, and bad profiles are one clear error."""

from __future__ import annotations

import pytest

from vpcaudit.aws.session import DEFAULT_REGION, ClientFactory, make_session
from vpcaudit.errors import ConfigError


def test_aws_region_sets_the_home_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert ClientFactory(make_session()).home_region == "eu-west-3"


def test_aws_region_wins_over_aws_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert make_session().region_name == "eu-west-3"


def test_an_explicit_region_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert make_session(region="ap-south-1").region_name == "ap-south-1"


def test_without_any_region_the_home_region_is_us_east_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert ClientFactory(make_session()).home_region == DEFAULT_REGION


def test_a_profile_from_aws_profile_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    with pytest.raises(ConfigError, match="'no-such-profile' was not found"):
        make_session()
