"""Every word an invoice or credit note shows, one table per language (en, nl, de, fr, da): labels,
the legally required VAT notes and the payment instruction. Amounts and dates are Babel's
(services.locale), never formatted here."""

from __future__ import annotations

from partnerctl.services.locale import text_language

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "Invoice", "credit_note": "Credit note", "number": "Number", "issue_date": "Date",
        "due_date": "Due date", "period": "Period", "credits": "Credits invoice", "reason": "Reason",
        "seller": "From", "buyer": "To", "vat_number": "VAT number", "customer_ref": "Customer reference",
        "description": "Description", "quantity": "Qty", "unit_price": "Unit price", "vat_rate": "VAT",
        "amount": "Amount", "breakdown": "VAT breakdown", "taxable": "Taxable amount", "vat_amount": "VAT amount",
        "net_total": "Total excl. VAT", "vat_total": "VAT", "total": "Total incl. VAT", "payment": "Payment",
        "pay_by": "Please pay {amount} by {date} quoting {number}.", "iban": "IBAN", "bic": "BIC",
        "refund": "This credit note cancels invoice {number}.",
        "reverse_charge": "Reverse charge: the customer accounts for the VAT (Article 196, Council Directive 2006/112/EC).",
        "outside_scope": "Not subject to EU VAT: the service is supplied outside the EU (Article 44, Council Directive 2006/112/EC).",
    },
    "nl": {
        "invoice": "Factuur", "credit_note": "Creditnota", "number": "Nummer", "issue_date": "Datum",
        "due_date": "Vervaldatum", "period": "Periode", "credits": "Crediteert factuur", "reason": "Reden",
        "seller": "Van", "buyer": "Aan", "vat_number": "Btw-nummer", "customer_ref": "Klantreferentie",
        "description": "Omschrijving", "quantity": "Aantal", "unit_price": "Stukprijs", "vat_rate": "Btw",
        "amount": "Bedrag", "breakdown": "Btw-specificatie", "taxable": "Grondslag", "vat_amount": "Btw-bedrag",
        "net_total": "Totaal excl. btw", "vat_total": "Btw", "total": "Totaal incl. btw", "payment": "Betaling",
        "pay_by": "Gelieve {amount} vóór {date} over te maken onder vermelding van {number}.", "iban": "IBAN",
        "bic": "BIC", "refund": "Deze creditnota crediteert factuur {number}.",
        "reverse_charge": "BTW verlegd: de afnemer draagt de btw af (artikel 196, Richtlijn 2006/112/EG).",
        "outside_scope": "Niet onderworpen aan btw in de EU: dienst verricht buiten de EU (artikel 44, Richtlijn 2006/112/EG).",
    },
    "de": {
        "invoice": "Rechnung", "credit_note": "Rechnungskorrektur", "number": "Nummer", "issue_date": "Datum",
        "due_date": "Fällig am", "period": "Leistungszeitraum", "credits": "Korrigiert Rechnung", "reason": "Grund",
        "seller": "Von", "buyer": "An", "vat_number": "USt-IdNr.", "customer_ref": "Kundennummer",
        "description": "Beschreibung", "quantity": "Menge", "unit_price": "Einzelpreis", "vat_rate": "USt.",
        "amount": "Betrag", "breakdown": "Umsatzsteuer", "taxable": "Bemessungsgrundlage",
        "vat_amount": "Steuerbetrag", "net_total": "Summe netto", "vat_total": "Umsatzsteuer",
        "total": "Gesamtbetrag brutto", "payment": "Zahlung",
        "pay_by": "Bitte überweisen Sie {amount} bis zum {date} unter Angabe von {number}.", "iban": "IBAN",
        "bic": "BIC", "refund": "Diese Rechnungskorrektur storniert die Rechnung {number}.",
        "reverse_charge": "Steuerschuldnerschaft des Leistungsempfängers (Verlagerung der Steuerschuld, Art. 196 MwStSystRL).",
        "outside_scope": "Nicht im Inland steuerbar: Leistungsort außerhalb der EU (Art. 44 MwStSystRL).",
    },
    "fr": {
        "invoice": "Facture", "credit_note": "Avoir", "number": "Numéro", "issue_date": "Date",
        "due_date": "Échéance", "period": "Période", "credits": "Avoir sur la facture", "reason": "Motif",
        "seller": "De", "buyer": "À", "vat_number": "N° de TVA", "customer_ref": "Référence client",
        "description": "Description", "quantity": "Qté", "unit_price": "Prix unitaire", "vat_rate": "TVA",
        "amount": "Montant", "breakdown": "Détail de la TVA", "taxable": "Base HT", "vat_amount": "Montant TVA",
        "net_total": "Total HT", "vat_total": "TVA", "total": "Total TTC", "payment": "Paiement",
        "pay_by": "Merci de régler {amount} avant le {date} en indiquant {number}.", "iban": "IBAN", "bic": "BIC",
        "refund": "Cet avoir annule la facture {number}.",
        "reverse_charge": "Autoliquidation : TVA due par le preneur (article 196 de la directive 2006/112/CE).",
        "outside_scope": "TVA non applicable : prestation hors de l'UE (article 44 de la directive 2006/112/CE).",
    },
    "da": {
        "invoice": "Faktura", "credit_note": "Kreditnota", "number": "Nummer", "issue_date": "Dato",
        "due_date": "Forfaldsdato", "period": "Periode", "credits": "Krediterer faktura", "reason": "Årsag",
        "seller": "Fra", "buyer": "Til", "vat_number": "Momsnummer", "customer_ref": "Kundereference",
        "description": "Beskrivelse", "quantity": "Antal", "unit_price": "Enhedspris", "vat_rate": "Moms",
        "amount": "Beløb", "breakdown": "Momsspecifikation", "taxable": "Momsgrundlag", "vat_amount": "Momsbeløb",
        "net_total": "I alt ekskl. moms", "vat_total": "Moms", "total": "I alt inkl. moms", "payment": "Betaling",
        "pay_by": "Betal venligst {amount} senest {date} med angivelse af {number}.", "iban": "IBAN",
        "bic": "BIC", "refund": "Denne kreditnota krediterer faktura {number}.",
        "reverse_charge": "Omvendt betalingspligt: køber afregner momsen (artikel 196 i direktiv 2006/112/EF).",
        "outside_scope": "Ikke omfattet af EU-moms: ydelsen leveres uden for EU (artikel 44 i direktiv 2006/112/EF).",
    },
}  # fmt: skip


def labels_for(language: str | None) -> dict[str, str]:
    """The words of a document in `language`, English when partnerctl ships no translation."""
    return LABELS[text_language(language)]
