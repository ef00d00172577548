"""Copy-paste AWS CLI commands: the region they run in and the account whose credentials
they need.

Every value a command takes from the inventory goes through `q` (or `words`): ids, CIDRs,
names and JSON documents come from accounts and snapshots the reader may not control, and
a command is pasted into a shell. `shlex.quote` leaves ordinary ids (`vpc-0abc`, `10.0.0.0/16`)
as they are, so commands for normal data read exactly as before.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable


def q(value: object) -> str:
    """One shell word for a value: its text, quoted only when the shell would split or run it."""
    return shlex.quote(str(value))


def words(values: Iterable[object]) -> str:
    """Several values as separate shell words (e.g. the ids after --route-table-ids)."""
    return " ".join(q(v) for v in values)


def dq(text: str) -> str:
    """One double-quoted shell word (for text with single quotes, such as a JMESPath query),
    or `q(text)` when the text holds a character the shell expands inside double quotes."""
    if any(c in text for c in '$`\\"!') or not text.isprintable():
        return q(text)
    return f'"{text}"'


def ask(name: str, what: str) -> str:
    """A value the reader must supply, as a shell variable that stops the command, saying
    what is missing, when it is not set: a `<placeholder>` pasted as it is would be a file
    redirection, and the command would fail."""
    # Inside double quotes the shell still expands $ and backticks: keep only plain words.
    plain = re.sub(r"[^\w ,./-]", "", what)
    return f'"${{{name}:?set {name} to {plain}}}"'


def note(text: str) -> str:
    """Text for a `# ...` comment on one line: a newline in it would start a command."""
    if text.isprintable():
        return text  # nearly always (an account id), and this runs once per finding
    return "".join(c if c.isprintable() else "?" for c in text)


def cli(command: str, region: str, account_id: str) -> str:
    """An AWS CLI command with its region, noting which account's credentials it needs."""
    # A command that carries its own comment gets --region before it: after a `#` the shell
    # would ignore it, and the command would run in the profile's default region.
    words, comment = _split_comment(command)
    tail = f"; {comment}" if comment else ""
    return f"{words} --region {q(region)}  # as account {note(account_id)}{tail}"


# A quoted word (to its closing quote, or the end), or a `#` that starts a word.
_COMMENT_OR_QUOTE = re.compile(r"""'[^']*(?:'|\Z)|"[^"]*(?:"|\Z)|(?<!\S)#""")


def _split_comment(command: str) -> tuple[str, str]:
    """(the command, its trailing `# comment` text) split where the shell would: at a `#`
    that starts a word outside quotes."""
    if "#" not in command:
        return command, ""  # nearly every command, and this runs once per finding
    for m in _COMMENT_OR_QUOTE.finditer(command):
        if m.group() == "#":
            return command[: m.start()].rstrip(), command[m.end() :].strip()
    return command, ""


def destination_flag(destination: str) -> str:
    """The AWS CLI flag for a route destination (IPv4, IPv6 or prefix list)."""
    if destination.startswith("pl-"):
        return "--destination-prefix-list-id"
    return "--destination-ipv6-cidr-block" if ":" in destination else "--destination-cidr-block"
