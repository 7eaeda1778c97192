"""Message texts per language with English fallback and config-dir overrides."""

from __future__ import annotations

import pytest

from partnerctl.config import config_dir
from partnerctl.errors import ConfigMissing, InvalidInput
from partnerctl.mail.render import SHIPPED_LANGUAGES, render

CONTEXT = {"actor": "Anna", "email": "bob@example.com", "at": "2026-01-05 10:00 UTC"}


@pytest.mark.parametrize(
    ("language", "subject_word"),
    [
        ("en", "test message"),
        ("nl", "testbericht"),
        ("de", "Testnachricht"),
        ("fr", "Message de test"),
        ("da", "testmeddelelse"),
    ],
)
def test_each_shipped_language_has_its_own_text(language, subject_word):
    rendered = render("test", language, CONTEXT)
    assert rendered.language == language
    assert subject_word in rendered.subject
    assert "bob@example.com" in rendered.text and "Anna" in rendered.text
    assert "$" not in rendered.text  # every placeholder was filled
    assert language in SHIPPED_LANGUAGES


def test_unknown_language_falls_back_to_english():
    rendered = render("test", "es", CONTEXT)
    assert rendered.language == "en"
    assert rendered.subject == "partnerctl test message"
    assert render("test", None, CONTEXT).language == "en"


def test_english_has_an_html_alternative_with_escaped_values():
    rendered = render("test", "en", {**CONTEXT, "actor": "<script>Eve</script>"})
    assert rendered.html is not None and "<strong>" in rendered.html
    assert "&lt;script&gt;Eve&lt;/script&gt;" in rendered.html
    assert "<script>" not in rendered.html


def test_config_dir_override_wins_and_unknown_template_is_refused():
    override = config_dir() / "templates" / "nl" / "test.txt"
    override.parent.mkdir(parents=True)
    override.write_text(
        "Subject: Eigen tekst voor $email\n\nHoi $actor, dit is onze eigen tekst.\n", encoding="utf-8"
    )
    rendered = render("test", "nl", CONTEXT)
    assert rendered.subject == "Eigen tekst voor bob@example.com"
    assert rendered.text == "Hoi Anna, dit is onze eigen tekst.\n"
    # Other languages still use the shipped text.
    assert render("test", "de", CONTEXT).subject == "partnerctl Testnachricht"
    with pytest.raises(InvalidInput):
        render("no_such_template", "en", CONTEXT)


def test_override_without_subject_line_is_a_clear_config_error():
    bad = config_dir() / "templates" / "fr" / "test.txt"
    bad.parent.mkdir(parents=True)
    bad.write_text("Bonjour\n\ntexte\n", encoding="utf-8")
    with pytest.raises(ConfigMissing, match="Subject"):
        render("test", "fr", CONTEXT)
