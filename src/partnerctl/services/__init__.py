"""Use cases: a Session in, models or plain dataclasses out, domain errors raised. Never prints."""
