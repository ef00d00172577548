"""Text bound for a terminal: AWS-sourced strings shown, never obeyed; widths as displayed.

Tags, names and ids come from accounts the reader may not control. An ESC, a C1 control or a
bidi override in one could clear the screen, plant an OSC-8 link, overwrite a line with `\\r`
or reorder what is read, so every control character is replaced by a visible escape (`\\x1b`,
`\\u202e`): the reader sees that something was there and what.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROLS = "\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_CONTROLS}]")
# A block keeps its line breaks and tabs (they are layout, not commands); a lone \r is a
# command (it returns to the start of the line and overwrites it), a \r\n pair is a line end.
_UNSAFE_IN_BLOCK = re.compile(
    "\r(?!\n)|[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe(text: str) -> str:
    """One line or table cell: every control character (newline and tab too) made visible."""
    return _UNSAFE.sub(_escape, text)


def safe_block(text: str) -> str:
    """Several lines: controls made visible, except newlines and tabs (a \\r\\n pair too)."""
    return _UNSAFE_IN_BLOCK.sub(_escape, text)


def char_width(ch: str) -> int:
    """Columns one character takes: 2 for wide East Asian characters, 0 for combining ones."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text: str) -> int:
    """Columns the text takes on a terminal (not its length in code points or bytes)."""
    if text.isascii():
        return len(text)
    return sum(char_width(ch) for ch in text)


def wrap(text: str, cols: int, indent: str = "", subsequent: str | None = None) -> list[str]:
    """Word-wrap to cols display columns; a word wider than a line is split (ids stay whole
    when they fit: hyphens are not break points)."""
    if width(indent + text) <= cols and not any(c in text for c in "\n\r\t\v\f"):
        return [indent + text]  # fits: left exactly as written
    subsequent = indent if subsequent is None else subsequent
    lines: list[str] = []
    line, used = indent, width(indent)
    fresh = True  # nothing but the indent on this line yet
    for whole in text.split():
        word, w = whole, width(whole)
        gap = 0 if fresh else 1
        if not fresh and used + gap + w > cols:
            lines.append(line)
            line, used, fresh, gap = subsequent, width(subsequent), True, 0
        while used + gap + w > cols and w > 1 and cols - used - gap > 0:
            # Wider than a whole line: cut it where the line ends.
            head, word = _cut(word, cols - used - gap)
            lines.append(line + " " * gap + head)
            line, used, gap = subsequent, width(subsequent), 0
            w = width(word)
        line += " " * gap + word
        used += gap + w
        fresh = False
    lines.append(line)
    return [x.rstrip() for x in lines]


def _cut(word: str, cols: int) -> tuple[str, str]:
    """The longest head of word that fits cols columns (at least one character), and the rest."""
    used = 0
    for i, ch in enumerate(word):
        used += char_width(ch)
        if used > cols:
            return word[: max(i, 1)], word[max(i, 1) :]
    return word, ""
