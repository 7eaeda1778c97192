"""Message texts: templates per language shipped in the package, overridable from the config dir.

A template is `templates/<lang>/<name>.txt`: the first line is `Subject: ...`, then a blank line,
then the plain-text body. An optional `<name>.html` beside it is the HTML alternative. Placeholders
are `$name` / `${name}` (string.Template), so a template can never run code.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from partnerctl.config import config_dir
from partnerctl.errors import ConfigMissing, InvalidInput

FALLBACK_LANGUAGE = "en"
SHIPPED_LANGUAGES = ("en", "nl", "de", "fr", "da")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None
    language: str


def override_dir() -> Path:
    """Partner overrides: <config dir>/templates/<lang>/<name>.txt (and .html)."""
    return config_dir() / "templates"


@lru_cache(maxsize=256)
def _load(name: str, language: str, suffix: str, override_root: str) -> str | None:
    override = Path(override_root) / language / f"{name}{suffix}"
    if override.is_file():
        try:
            return override.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigMissing(f"cannot read mail template override {override}: {exc}") from None
    shipped = resources.files("partnerctl.mail").joinpath("templates", language, f"{name}{suffix}")
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    return None


def _find(name: str, language: str, suffix: str) -> tuple[str | None, str]:
    root = str(override_dir())
    for lang in (language, FALLBACK_LANGUAGE):
        found = _load(name, lang, suffix, root)
        if found is not None:
            return found, lang
    return None, FALLBACK_LANGUAGE


def render(name: str, language: str | None, context: dict[str, object]) -> Rendered:
    """Render template `name` in `language`, falling back to English when there is no translation."""
    lang = (language or FALLBACK_LANGUAGE).lower()
    source, used = _find(name, lang, ".txt")
    if source is None:
        raise InvalidInput(f"no mail template named {name!r}")
    head, _, body = source.partition("\n\n")
    if not head.startswith("Subject:"):
        raise ConfigMissing(f"mail template {used}/{name}.txt must start with a 'Subject:' line")
    values = {k: "" if v is None else str(v) for k, v in context.items()}
    subject = string.Template(head[len("Subject:") :].strip()).safe_substitute(values)
    text = string.Template(body).safe_substitute(values)
    html_source = _load(name, used, ".html", str(override_dir()))
    html = None
    if html_source is not None:
        from html import escape

        html = string.Template(html_source).safe_substitute({k: escape(v) for k, v in values.items()})
    return Rendered(subject=subject, text=text, html=html, language=used)
