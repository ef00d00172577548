"""Fixtures of the collector tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from vpcaudit.demo.fidelity import answer_unimplemented


@pytest.fixture(scope="package", autouse=True)
def _moto_answers_every_collector_call() -> Iterator[None]:
    """moto in-process answers every call the collectors make, DescribeTransitGatewayConnects
    included (see answer_unimplemented); package-scoped so that tests elsewhere see moto as
    it is."""
    with answer_unimplemented():
        yield
