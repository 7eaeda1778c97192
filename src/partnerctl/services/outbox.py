"""Queueing outgoing e-mail in the caller's transaction; delivery lives in partnerctl.mail."""

from __future__ import annotations

from sqlmodel import Session, select

from partnerctl.store.models import OutboxMessage


def queue_message(
    session: Session,
    *,
    dedupe_key: str,
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    language: str = "en",
) -> tuple[OutboxMessage, bool]:
    """Queue one message; the same dedupe key twice keeps one message. Returns (message, created)."""
    existing = session.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)).first()
    if existing is not None:
        return existing, False
    message = OutboxMessage(
        dedupe_key=dedupe_key,
        kind=kind,
        to_addr=to,
        subject=subject,
        body_text=text,
        body_html=html,
        language=language,
    )
    session.add(message)
    session.flush()
    return message, True


def queue_template(
    session: Session,
    *,
    template: str,
    language: str | None,
    to: str,
    dedupe_key: str,
    context: dict[str, object],
    kind: str | None = None,
) -> tuple[OutboxMessage, bool]:
    """Render a shipped (or overridden) mail template in the recipient's language and queue it."""
    from partnerctl.mail.render import render

    rendered = render(template, language, context)
    return queue_message(
        session,
        dedupe_key=dedupe_key,
        kind=kind or template,
        to=to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        language=rendered.language,
    )
