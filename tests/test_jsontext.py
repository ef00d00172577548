"""The fast indented JSON writer gives json.dumps(indent=2)'s text, byte for byte."""

from __future__ import annotations

import enum
import json
import random
from typing import Any

import pytest

from vpcaudit.report import jsontext


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


_SCALARS: list[Any] = [
    "",
    "plain",
    'quote " back \\ slash',
    "line\nbreak\ttab",
    "\x00\x1b\x7f",
    "é ü 中 😀",
    "\u2028\u202e",
    0,
    -1,
    2**70,
    1.5,
    -0.0,
    1e300,
    float("nan"),
    float("inf"),
    True,
    False,
    None,
    Colour.RED,
    Level.HIGH,
]


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.45:
        return rng.choice(_SCALARS)
    if roll < 0.7:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.75:
        return tuple(_value(rng, depth + 1) for _ in range(rng.randint(0, 3)))
    keys: list[Any] = ["k", "a b", "é", "", "\n", "x"]
    if roll < 0.8:
        keys += [1, 2.5, True, None]  # json turns these into strings
    return {rng.choice(keys): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def test_random_values_give_the_standard_text() -> None:
    rng = random.Random(2026)  # noqa: S311 - reproducible test input, not a secret
    for _ in range(20_000):
        value = _value(rng, 0)
        assert jsontext.dumps(value) == json.dumps(value, indent=2), repr(value)


def test_a_margin_indents_every_line_after_the_first() -> None:
    rng = random.Random(2027)  # noqa: S311 - reproducible test input, not a secret
    for _ in range(5_000):
        value = _value(rng, 0)
        # JSON text holds no raw newline inside a string: the margin goes after each one.
        want = json.dumps(value, indent=2).replace("\n", "\n    ")
        assert jsontext.dumps(value, "    ") == want, repr(value)


def test_an_unknown_type_fails_as_json_does() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        jsontext.dumps({"when": object()})


def test_the_json_report_is_its_dict_as_json_dumps_writes_it() -> None:
    """The report is streamed a finding at a time through jsontext: the same text as
    json.dumps of report_dict, with waivers, a baseline, and a plugin's odd values."""
    from dataclasses import replace  # noqa: PLC0415

    from tests.report_golden import golden_report  # noqa: PLC0415
    from vpcaudit.baseline import BaselineDiff  # noqa: PLC0415
    from vpcaudit.report import json_report  # noqa: PLC0415

    class Text(str):
        """A str subclass, as a plugin might hand over."""

    data = golden_report()
    findings = data.evaluation.findings
    assert any(f.suppressed for f in findings) and any(f.waiver for f in findings)
    fps = [f.fingerprint for f in findings]
    baseline = BaselineDiff("old.json", frozenset(fps[::3]), frozenset(fps[1::3]), (), ())
    odd = (
        replace(findings[0], message=Text("a \u202e str subclass")),
        replace(findings[0], evidence={1: 2.5, "nan": float("nan"), "list": [{}, [], None]}),
        replace(findings[0], remediation=""),
        replace(findings[0], evidence={}, waiver={"reason": "é\n", "expires": None}),
    )
    for variant in (
        data,
        replace(data, baseline=baseline),
        replace(data, evaluation=replace(data.evaluation, findings=odd)),
    ):
        want = json.dumps(json_report.report_dict(variant), indent=2) + "\n"
        assert json_report.render(variant) == want
