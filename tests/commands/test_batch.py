"""partnerctl batch: many command lines in one process, each its own transaction, exit 9 when any failed."""

from __future__ import annotations

import pytest

from tests.helpers.cli import run_partnerctl

SCRIPT = """\
# onboarding script
user add bob@acme.example --name Bob
user add 'carl@acme.example' \\
    --name "Carl C"
user add not-an-email          # fails: exit 2, the others still run
partnerctl user edit bob@acme.example --role admin
user show nobody@acme.example
"""


def test_batch_runs_every_line_and_reports_each(initialized, cli, tmp_path):
    path = tmp_path / "script.txt"
    path.write_text(SCRIPT)
    result = cli.fails(9, "batch", str(path))
    assert "line 2: ok: user add bob@acme.example --name Bob" in result.stderr
    assert "line 3: ok: user add carl@acme.example --name 'Carl C'" in result.stderr
    assert "line 5: exit 2: user add not-an-email" in result.stderr
    assert "line 7: exit 3: user show nobody@acme.example" in result.stderr
    assert "batch: 3 of 5 lines ok, 2 failed" in result.stderr
    users = {u["email"]: u for u in cli.ok("user", "list", "-o", "json").json()}
    assert users["bob@acme.example"]["role"] == "admin"
    assert users["carl@acme.example"]["name"] == "Carl C"


def test_stop_on_error_and_stdin(initialized, cli):
    script = "user add a@acme.example\nuser add a@acme.example\nuser add b@acme.example\n"
    result = cli.fails(9, "batch", "-", "--stop-on-error", input=script)
    assert "line 2: exit 4" in result.stderr and "stopped at line 2" in result.stderr
    emails = [u["email"] for u in cli.ok("user", "list", "-o", "json").json()]
    # Line 1 was committed on its own; line 3 never ran.
    assert "a@acme.example" in emails and "b@acme.example" not in emails


@pytest.mark.slow
def test_batch_in_a_real_process_with_global_options_and_output(initialized, tmp_path):
    script = 'user add d@acme.example\nuser list\n"unterminated\nbatch other.txt\nuser list --bogus\n'
    proc = run_partnerctl("--output", "json", "batch", "-", input=script)
    assert proc.returncode == 9, proc.stderr
    assert "Traceback" not in proc.stderr
    # The batch's own -o json applies to every line.
    assert '"email": "d@acme.example"' in proc.stdout
    assert "line 3: exit 2" in proc.stderr and "No closing quotation" in proc.stderr
    assert "batch cannot run batch" in proc.stderr
    assert "line 5: exit 2" in proc.stderr
    proc = run_partnerctl("batch", str(tmp_path / "missing.txt"))
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_batch_of_all_good_lines_exits_0(initialized, cli):
    lines = "".join(f"user add u{i}@acme.example\n" for i in range(30))
    result = cli.ok("batch", "-", input=lines)
    assert "batch: 30 of 30 lines ok, 0 failed" in result.stderr
    assert len(cli.ok("user", "list", "-o", "json").json()) == 31
