"""vpcaudit.report.mdescape: one escaping function per place a value lands in the Markdown report
(prose and table cells, code spans, fenced blocks, raw HTML, Mermaid labels and ids), each run
over every hostile value of tests/hostile.py."""

from __future__ import annotations

import html as htmllib
import re

import pytest

from tests.hostile import HOSTILE, IDS, MARKERS, VALUES, of_kind
from tests.test_report_markdown import fences
from vpcaudit.network.answer import Component, Hop, PathAnswer, Verdict
from vpcaudit.report import mdescape, path_report

MD_ACTIVE = set("\\`*_[]|~")


def unescape_markdown(escaped: str) -> str:
    """What a CommonMark renderer shows for escaped text: backslash escapes, then entities."""
    return htmllib.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", escaped))


def unescape_mermaid(label: str) -> str:
    """What Mermaid shows for a label: its `#name;` and `#123;` entity codes decoded."""
    named = {"quot": '"', "lt": "<", "gt": ">", "amp": "&"}
    return re.sub(
        r"#(\d+|[a-z]+);", lambda m: chr(int(m[1])) if m[1].isdigit() else named[m[1]], label
    )


def test_the_hostile_corpus_covers_every_family() -> None:
    kinds = {h.kind for h in HOSTILE}
    assert kinds == {"html", "markdown", "mermaid", "shell", "terminal", "unicode"}
    assert all(of_kind(k) for k in kinds)
    assert len(set(IDS)) == len(IDS) == len(VALUES)
    assert any(m in v for m in MARKERS for v in VALUES)


def test_controls_are_shown_as_escapes_and_newlines_kept() -> None:
    assert mdescape.controls("a\x1b[2Jb\nc") == "a\\x1b[2Jb\nc"
    assert mdescape.controls("\x00\x07\x9b\x7f") == "\\x00\\x07\\x9b\\x7f"
    assert mdescape.controls("safe\u202etxt\u2066") == "safe\\u202etxt\\u2066"


def test_one_line_collapses_every_kind_of_line_break() -> None:
    assert mdescape.one_line("a\r\nb\rc\nd\u2028e\u2029f\x85g\th") == "a b c d e f g h"


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_text_is_one_inert_line_that_shows_the_value(value: str) -> None:
    out = mdescape.text(value)
    assert "\n" not in out and "\r" not in out
    assert "<" not in out and ">" not in out
    # Every Markdown-active character is escaped (a backslash pairs with the next character).
    i = 0
    while i < len(out):
        if out[i] == "\\":
            i += 2
            continue
        assert out[i] not in MD_ACTIVE, (out, i)
        i += 1
    # Nothing is lost: a renderer shows the value (on one line, controls made visible).
    assert unescape_markdown(out) == mdescape.one_line(value)


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("# heading", "\\# heading"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("1. first", "1\\. first"),
        ("2) second", "2\\) second"),
        ("> quote", "&gt; quote"),
        ("=== ", "\\=== "),
        ("2024-06-01", "2024-06-01"),  # not a block marker: left alone
        ("0.5 GB", "0\\.5 GB"),
    ],
)
def test_text_never_starts_a_block(value: str, escaped: str) -> None:
    assert mdescape.text(value) == escaped


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_html_is_one_line_of_entities(value: str) -> None:
    out = mdescape.html(value)
    assert not set(out) & set("<>\"'[]\n\r")
    assert htmllib.unescape(out) == mdescape.one_line(value)


def test_code_span_keeps_ids_as_code_and_writes_anything_else_as_text() -> None:
    assert mdescape.code_span("vpc-0abc") == "`vpc-0abc`"
    assert mdescape.code_span("ec2:DescribeFlowLogs") == "`ec2:DescribeFlowLogs`"
    assert mdescape.code_span("tests/fixtures/w.yaml") == "`tests/fixtures/w.yaml`"
    for value in VALUES:
        out = mdescape.code_span(value)
        if not out.startswith("`"):
            assert out == mdescape.text(value)
        else:  # a plain value: nothing in it a code span or a table would act on
            assert not set(out[1:-1]) & set("`|\\<>&[]\n")


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_fence_outlasts_any_backtick_run_in_its_content(value: str) -> None:
    block = mdescape.fence(f"aws ec2 x {value}\n{value}", "sh")
    found, outside = fences(block + "\nafter")
    assert [f.info for f in found] == ["sh"]
    assert outside == ["after"]
    assert "\x1b" not in block and "\r" not in block and "\u202e" not in block


def test_fence_of_plain_content_is_three_backticks() -> None:
    assert mdescape.fence("aws ec2 x", "sh") == "```sh\naws ec2 x\n```"
    assert mdescape.fence("a ```` b", "json").startswith("`````json\n")


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_mermaid_label_is_one_line_with_nothing_mermaid_reads(value: str) -> None:
    out = mdescape.mermaid_label(value)
    assert not set(out) & set('"`<>&%[]{}|\n\r\x1b')
    assert "%%" not in out
    assert unescape_mermaid(out) == mdescape.one_line(value)


def test_mermaid_id_is_word_characters_and_one_to_one() -> None:
    assert mdescape.mermaid_id("vpc-0ab") == "vpc_0ab"
    tricky = ["vpc-a", "vpc_a", "VPC-A", "vpc-a ", "vpc.a", "vpc-_a", "vpc_-a", "-U000041", "A"]
    ids = [mdescape.mermaid_id(v) for v in [*tricky, *VALUES]]
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", i) for i in ids if i)
    assert len(set(ids)) == len(ids)


def test_path_mermaid_keeps_hostile_ids_inside_their_labels() -> None:
    """`vpcaudit path --format mermaid` escapes ids, actions and the endpoints as labels."""
    hops = tuple(Hop(Component("subnet", v, "111111111111", "us-east-1"), v) for v in VALUES)
    answer = PathAnswer(VALUES[0], VALUES[1], "tcp", 443, Verdict.REACHABLE, forward=hops)
    out = path_report.render_mermaid(answer)
    found, outside = fences(out)
    assert [f.info for f in found] == ["mermaid"] and outside == [""]
    lines = found[0].body
    node = re.compile(r'^  n\d+\["[^"\n%`<>]*"\]$')
    edge = re.compile(r'^  n\d+ (-->|-\.->|-\.-x)(\|"[^"\n%`<>]*"\|)? n\d+$')
    assert lines[0] == "flowchart LR"
    assert all(node.match(x) or edge.match(x) for x in lines[1:]), lines
    assert sum(bool(node.match(x)) for x in lines) == len(VALUES) + 2  # hops, source, destination


# -- the fast paths give the character-by-character answer ----------------------------------


def _text_by_character(value: str) -> str:
    """mdescape.text as first written: every character looked at, the block regex always run."""
    line = mdescape.controls(re.sub(r"\r\n|[\r\n\t\u2028\u2029\x85]", " ", value))
    out = []
    for c in line:
        if c in "\\`*_[]|~":
            out.append("\\" + c)
        else:
            out.append({"&": "&amp;", "<": "&lt;", ">": "&gt;"}.get(c, c))
    block = re.compile(r"^(\s*(?:\d+(?=[.)]))?)([#+=-]|(?<=\d)[.)])")
    return block.sub(lambda m: m.group(1) + "\\" + m.group(2), "".join(out), count=1)


def test_text_agrees_with_the_character_by_character_escape() -> None:
    """Printable or not, a block marker after a Unicode digit or space, entities, controls."""
    import random  # noqa: PLC0415

    rng = random.Random(13)  # noqa: S311 - reproducible test input, not a secret
    alphabet = "ab1\u0663. #-+=)\\`*_[]|~<>&\"'%\n\r\t\x1b\x85\u202e\u2028\u00a0\u3000"
    for _ in range(60_000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        assert mdescape.text(value) == _text_by_character(value), repr(value)
    for value in VALUES:
        assert mdescape.text(value) == _text_by_character(value), repr(value)
