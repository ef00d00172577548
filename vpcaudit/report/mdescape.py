"""Escaping for the Markdown report, one function per context a value can land in.

Names, tags, ids and messages come from accounts the reader may not control (and snapshots or
baselines from a shared bucket), so every such value goes through the function for the place
it is written: Markdown prose or a table cell, a code span, a fenced block, raw HTML, a Mermaid
label or a Mermaid id. Each function makes its context's markup inert; none of them trusts the
value to be well formed.
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL (ESC sequences, NUL, ...), and the Unicode bidirectional controls
# that reorder how text is displayed (a command that reads differently than it pastes).
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_NEWLINES = re.compile(r"\r\n|[\r\n\t\u2028\u2029\x85]")
# Everything a CommonMark/GFM inline parser gives meaning to, plus the table pipe: backslash,
# code spans, emphasis and strikethrough, links and images. `<`, `>` and `&` become entities.
_MD_PUNCT = frozenset("\\`*_[]|~")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
# Inside raw HTML Markdown is not parsed; brackets are encoded anyway so no link syntax from
# data is left in the file for a laxer viewer to follow.
_HTML_BRACKETS = {**_HTML, "[": "&#91;", "]": "&#93;"}
# A line that starts with one of these may open a block (heading, quote, list, rule, table).
_BLOCK_START = re.compile(r"^(\s*(?:\d+(?=[.)]))?)([#+=-]|(?<=\d)[.)])")
_BLOCK_MARKERS = frozenset("#+=-")
_BACKTICKS = re.compile(r"`+")
# What a code span may hold as it is: no backtick, pipe, backslash, bracket (link syntax),
# HTML character, control, newline or bidi character, and no space at either end (a code span
# strips one).
_NOT_PLAIN = (
    r"`|\\<>&\[\]\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
)
_PLAIN = re.compile(rf"(?!\s)[^{_NOT_PLAIN}]+(?<!\s)")
_MERMAID_NAMED = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;"}
# Characters with a meaning somewhere in Mermaid's grammar or its pre-processing (`%%{init}%%`
# directives are honoured anywhere in the text, `#...;` are entity codes, backticks open
# Markdown strings): written as entity codes, which Mermaid decodes only after parsing.
_MERMAID_SPECIAL = frozenset('"<>&#%;[]{}|`')
# The same, as translation tables (str.translate: a report can hold 100,000 findings).
_TEXT = str.maketrans({**{c: "\\" + c for c in _MD_PUNCT}, **{c: _HTML[c] for c in "<>&"}})
_HTML_TABLE = str.maketrans(_HTML_BRACKETS)
_MERMAID_TABLE = str.maketrans({**{c: f"#{ord(c)};" for c in _MERMAID_SPECIAL}, **_MERMAID_NAMED})


def controls(text: str) -> str:
    """Control and bidi characters as visible escapes (`\\x1b`, `\\u202e`); newlines kept."""
    return _CONTROL.sub(_visible, text)


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: object) -> str:
    """The value as one line of text: newlines and tabs collapsed to a space, controls shown."""
    value = str(text)
    if value.isprintable():
        return value  # no line break, tab, control, bidi mark or line separator to change
    return controls(_NEWLINES.sub(" ", value))


def text(value: object) -> str:
    """A value for Markdown prose or a table cell: every inline construct and HTML inert."""
    escaped = one_line(value).translate(_TEXT)
    # Only the start can open a block (the value is one line), but it may start a line. The
    # marker itself is escaped (`1\.`), since a backslash before a digit would show.
    first = escaped[:1]
    if not (first.isspace() or first.isdecimal() or first in _BLOCK_MARKERS):
        return escaped  # _BLOCK_START cannot match: the usual case, a letter or an id
    return _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped, count=1)


def html(value: object) -> str:
    """A value for raw HTML element content or a quoted attribute (e.g. inside `<summary>`)."""
    # One line, because a blank line ends a Markdown HTML block and lets Markdown back in.
    return one_line(value).translate(_HTML_TABLE)


def code_span(value: object) -> str:
    """A value as an inline code span when it is plain (an id, a path), else as escaped text.

    Markdown shows a code span's content literally, but not every viewer follows CommonMark,
    and a report that greps clean is easier to trust: a value holding backticks, pipes,
    backslashes, HTML characters or controls is written by `text()` instead, without the code
    styling.
    """
    content = str(value)
    if _PLAIN.fullmatch(content):
        return f"`{content}`"
    return text(content)


def fence(content: str, info: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run in the content."""
    body = controls(content.replace("\r\n", "\n").replace("\r", "\n"))
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    marker = "`" * max(3, longest + 1)
    return f"{marker}{info}\n{body}\n{marker}"


def mermaid_label(value: object) -> str:
    """A value for inside a quoted Mermaid label (`["..."]`, `|"..."|`): one line, inert."""
    return one_line(value).translate(_MERMAID_TABLE)


def mermaid_id(value: object) -> str:
    """A Mermaid node id made of [A-Za-z0-9_], one-to-one with the value.

    `-` becomes `_` (so `vpc-0ab` reads `vpc_0ab`); every other character outside [a-z0-9]
    (including `_` and capitals) becomes `_U` and six hex digits. Capitals never appear
    unescaped, so the encoding cannot be read two ways: two ids never merge into one node.
    """
    out = []
    for c in str(value):
        if c.isascii() and (c.islower() or c.isdigit()):
            out.append(c)
        elif c == "-":
            out.append("_")
        else:
            out.append(f"_U{ord(c):06X}")
    return "".join(out)
