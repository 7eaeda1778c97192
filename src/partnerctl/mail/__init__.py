"""Outgoing e-mail: render (texts per language), message (MIME composition), transport (Maildir, SMTP).

Callers import the module they need; services/outbox/delivery.py drives message and transport.
"""
