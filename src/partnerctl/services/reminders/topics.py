"""What reminder mails say about a client: topics, their labels and figures in the recipient's language.

Digests and nudges both show a client's figures; both go through figure_text and is_outstanding here,
and greet their recipient with recipient_name.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from partnerctl.errors import InvalidInput
from partnerctl.services.locale import format_money, text_language
from partnerctl.store.models.reminders import ALL_TOPICS, Topic

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "daily": "daily",
        "weekly": "weekly",
        "monthly": "monthly",
        "balance": "Wallet balance",
        "missing-receipts": "Missing receipts",
        "expenses-ready": "Expenses ready for export",
        "nothing": "Nothing outstanding",
        "comment": "Comment",
    },
    "nl": {
        "daily": "dagelijkse",
        "weekly": "wekelijkse",
        "monthly": "maandelijkse",
        "balance": "Saldo van de wallet",
        "missing-receipts": "Ontbrekende bonnetjes",
        "expenses-ready": "Uitgaven klaar voor export",
        "nothing": "Geen openstaande taken",
        "comment": "Opmerking",
    },
    "de": {
        "daily": "tägliche",
        "weekly": "wöchentliche",
        "monthly": "monatliche",
        "balance": "Wallet-Guthaben",
        "missing-receipts": "Fehlende Belege",
        "expenses-ready": "Ausgaben bereit für den Export",
        "nothing": "Keine offenen Aufgaben",
        "comment": "Kommentar",
    },
    "fr": {
        "daily": "quotidien",
        "weekly": "hebdomadaire",
        "monthly": "mensuel",
        "balance": "Solde du portefeuille",
        "missing-receipts": "Reçus manquants",
        "expenses-ready": "Dépenses prêtes pour l'export",
        "nothing": "Aucune tâche en attente",
        "comment": "Commentaire",
    },
    "da": {
        "daily": "daglige",
        "weekly": "ugentlige",
        "monthly": "månedlige",
        "balance": "Saldo i tegnebogen",
        "missing-receipts": "Manglende kvitteringer",
        "expenses-ready": "Udgifter klar til eksport",
        "nothing": "Ingen udestående opgaver",
        "comment": "Kommentar",
    },
}


def labels_for(language: str | None) -> dict[str, str]:
    """The labels in `language`, English when there is no translation."""
    return LABELS[text_language(language)]


def parse_topics(raw: Iterable[str] | None) -> list[str]:
    """Topics in their canonical order, without repeats; none named means all of them."""
    chosen: set[str] = set()
    for item in raw or ():
        for part in item.split(","):
            name = part.strip().lower().replace("_", "-")
            if not name:
                continue
            try:
                chosen.add(Topic(name).value)
            except ValueError:
                raise InvalidInput(f"unknown topic {part.strip()!r}: use {', '.join(ALL_TOPICS)}") from None
    return [t for t in ALL_TOPICS if t in chosen] if chosen else list(ALL_TOPICS)


def is_outstanding(topic: str, missing_receipts: int, wallet_balance: Decimal, expenses_ready: int) -> bool:
    """A figure is an outstanding task: receipts missing, expenses waiting, or a wallet needing a top-up."""
    if topic == Topic.missing_receipts:
        return missing_receipts > 0
    if topic == Topic.expenses_ready:
        return expenses_ready > 0
    return Decimal(wallet_balance) <= 0


def figure_text(
    topic: str,
    missing_receipts: int,
    wallet_balance: Decimal,
    expenses_ready: int,
    currency: str,
    language: str | None,
) -> str:
    """How a client's figure for `topic` is shown: the balance as an amount, the counts as numbers."""
    if topic == Topic.balance:
        return format_money(wallet_balance, currency, language)
    if topic == Topic.missing_receipts:
        return str(missing_receipts)
    return str(expenses_ready)


def recipient_name(name: str | None, email: str) -> str:
    """The name a reminder greets its recipient by: theirs, or else the local part of their address."""
    return name or email.split("@")[0]
