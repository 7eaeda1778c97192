"""`partnerctl integration ...` through the CLI: the integration catalogue."""

from __future__ import annotations


def test_integrations(initialized, cli):
    cli.ok("integration", "add", "exact-online", "--name", "Exact Online", "--kind", "accounting")
    assert cli.ok("integration", "list", "-o", "ids").stdout.split() == ["exact-online"]
    cli.fails(2, "integration", "add", "x", "--name", "X", "--kind", "crm")
    cli.ok("user", "add", "bob@acme.example")
    cli.fails(5, "--as", "bob@acme.example", "integration", "add", "y", "--name", "Y")
    actions = {e["action"] for e in cli.ok("audit", "list", "-o", "json").json()}
    assert "integration.add" in actions


def test_integration_rows_are_the_audited_integration(initialized, cli):
    """`integration list` shows an integration with the very fields the audit log records."""
    cli.ok("integration", "add", "SSO", "--name", "Single sign-on", "--kind", "identity")
    listed = cli.ok("integration", "list", "-o", "json").json()
    assert listed == [{"key": "sso", "name": "Single sign-on", "kind": "identity"}]
    audited = cli.ok("audit", "list", "--action", "integration.add", "-o", "json").json()
    assert [e["after"] for e in audited] == listed
