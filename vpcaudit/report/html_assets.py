"""What the HTML reports share: the Jinja2 environment, safe JSON for scripts, and the
embedded graph library (cytoscape.js, shipped in report/assets with its licence)."""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

LIBRARIES = ("cytoscape.min.js", "layout-base.js", "cose-base.js", "cytoscape-fcose.js")
"""cytoscape.js and its fcose layout (with the two packages fcose is built on), in load order."""
_SCHEME = re.compile(r"https?://")
# Inside a <script>, "</script" ends the element and "<!--" changes how the parser reads on,
# whatever JavaScript thinks; neither may appear in inlined code.
_SCRIPT_BREAKERS = re.compile(r"</script|<!--", re.IGNORECASE)
_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


class EmbedError(ValueError):
    """An asset that cannot be inlined safely (a packaging bug, not a user error)."""


@functools.cache
def environment() -> jinja2.Environment:
    """The templates of report/templates, autoescaped (every AWS string is escaped)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("vpcaudit.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def script_json(value: Any) -> Markup:
    """JSON to place inside <script type="application/json">: nothing in it can end the
    element or be read as markup (<, >, & and the JavaScript line separators escaped)."""
    text = json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    # S704: safe by construction, every character that could end the element is escaped.
    return Markup(re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group()], text))  # noqa: S704


def strip_url_schemes(code: str) -> str:
    """The code with every http:// and https:// dropped. In the shipped libraries they occur
    only in comments (credits, licence text; a test checks it), so the report holds no URL."""
    return _SCHEME.sub("", code)


def inline_script(code: str) -> Markup:
    """Code checked safe to place between <script> and </script>."""
    if _SCRIPT_BREAKERS.search(code):
        raise EmbedError("the script contains </script or <!-- and cannot be inlined")
    return Markup(code)  # noqa: S704 - our files and the pinned libraries, checked just above


def inline_style(css: str) -> Markup:
    """A style sheet checked safe to place between <style> and </style>."""
    if "</" in css:
        raise EmbedError("the style sheet contains </ and cannot be inlined")
    return Markup(css)  # noqa: S704 - our own style sheet, checked just above


@functools.cache
def asset(name: str) -> str:
    """A text file of report/templates (our CSS and JS) or report/assets (the library)."""
    folder = "assets" if name in LIBRARIES else "templates"
    return resources.files("vpcaudit.report").joinpath(folder, name).read_text("utf-8")


@functools.cache
def library() -> Markup:
    """cytoscape.js with the fcose layout registered, ready to inline."""
    code = "\n".join(strip_url_schemes(asset(name)) for name in LIBRARIES)
    return inline_script(code + "\ncytoscape.use(cytoscapeFcose);\n")


def page_assets(*scripts: str) -> dict[str, Markup]:
    """The inlined style sheet, graph library and our scripts, for a template."""
    return {
        "css": inline_style(asset("report.css")),
        "library": library(),
        "scripts": inline_script("\n".join(asset(s) for s in scripts)),
    }
