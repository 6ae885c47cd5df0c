"""Renderers: a CheckReport as text for a terminal, JSON for machines, a PR comment, SARIF or JUnit XML.

Each format lives in its own module and is imported only when asked for, so the gate does not load
jinja2 unless it writes a PR comment.
"""

from __future__ import annotations

from guardrail.core.errors import ConfigError
from guardrail.core.ports import Renderer

FORMATS: tuple[str, ...] = ("text", "json", "markdown", "sarif", "junit")


def renderer_for(format: str, *, color: bool = False) -> Renderer:
    """The renderer for one of FORMATS; `color` only affects text. Raises ConfigError for any other."""
    if format == "text":
        from guardrail.adapters.render.text import TextRenderer

        return TextRenderer(color=color)
    if format == "json":
        from guardrail.adapters.render.json_format import JsonRenderer

        return JsonRenderer()
    if format == "markdown":
        from guardrail.adapters.render.markdown import MarkdownRenderer

        return MarkdownRenderer()
    if format == "sarif":
        from guardrail.adapters.render.sarif import SarifRenderer

        return SarifRenderer()
    if format == "junit":
        from guardrail.adapters.render.junit import JUnitRenderer

        return JUnitRenderer()
    raise ConfigError(f"output format {format!r}: expected one of {', '.join(FORMATS)}")
