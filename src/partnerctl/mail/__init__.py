"""Outgoing e-mail: composing messages from templates and delivering the outbox (Maildir, SMTP)."""
