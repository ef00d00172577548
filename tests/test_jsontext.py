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
