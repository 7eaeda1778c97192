"""`partnerctl portal` through the real CLI: refused without a terminal, and run in a real pseudo-terminal."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time

import pytest

from tests.helpers.portal import portal_space

NEEDS_A_TERMINAL = "error: the portal needs a terminal; use `partnerctl client list`"


def test_in_a_pipe_the_portal_exits_2_with_a_hint(initialized, cli):
    result = cli.fails(2, "portal")
    assert result.stderr.strip() == NEEDS_A_TERMINAL
    assert result.stdout == ""


def test_with_no_input_the_portal_exits_2_even_on_a_terminal(initialized, cli, monkeypatch):
    from partnerctl.commands import portal

    monkeypatch.setattr(portal, "_on_a_terminal", lambda: True)
    result = cli.fails(2, "--no-input", "portal", "--read-only")
    assert result.stderr.strip() == NEEDS_A_TERMINAL


def test_without_an_acting_user_the_portal_says_so_before_it_opens(backend, store_url, cli, monkeypatch):
    """SQLite: no user configured (exit 7). PostgreSQL: the connected role is linked to no partner
    user (exit 5), as for every other command."""
    from partnerctl.commands import portal

    monkeypatch.setattr(portal, "_on_a_terminal", lambda: True)
    if backend == "sqlite":
        assert cli.fails(7, "portal").stderr.startswith("error: no acting user")
    else:
        assert cli.fails(5, "portal").stderr.startswith(
            "error: role postgres is linked to no active partner user"
        )


# SGR parameters that set a colour: 30-37/90-97 (fg), 40-47/100-107 (bg), 38;... and 48;... (extended).
_SGR = re.compile(rb"\x1b\[([0-9;:]*)m")


def _colour_codes(output: bytes) -> list[str]:
    found = []
    for match in _SGR.finditer(output):
        params = [p for p in re.split(rb"[;:]", match.group(1)) if p]
        for p in params:
            n = int(p)
            if 30 <= n <= 38 or 40 <= n <= 48 or 90 <= n <= 97 or 100 <= n <= 107:
                found.append(match.group(0).decode())
                break
    return found


def _run_in_a_terminal(args: list[str], keys: list[tuple[bytes, bytes]], env: dict[str, str], size=(24, 80)):
    """Run partnerctl on a pseudo-terminal of `size` (rows, cols); for each (wait_for, send) pair, wait
    until the screen has shown `wait_for`, then type `send`. Returns (exit code, everything it wrote)."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "partnerctl", *args], stdin=slave, stdout=slave, stderr=slave,
        env={**os.environ, "TERM": "xterm-256color", **env}, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    output = b""
    try:
        for wait_for, send in keys:
            deadline = time.monotonic() + 60
            while wait_for not in output:
                assert time.monotonic() < deadline, f"never saw {wait_for!r}: {output[-2000:]!r}"
                if select.select([master], [], [], 0.5)[0]:
                    output += os.read(master, 65536)
            os.write(master, send)
        deadline = time.monotonic() + 60
        while proc.poll() is None or select.select([master], [], [], 0)[0]:
            # Keep reading while it shuts down: a full terminal buffer would block its last writes.
            assert time.monotonic() < deadline, f"did not exit: {output[-2000:]!r}"
            if select.select([master], [], [], 0.2)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the terminal closed with the process
                    break
                if not chunk:
                    break
                output += chunk
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, output


@pytest.mark.slow
@pytest.mark.parametrize("no_color", [True, False])
def test_the_portal_runs_in_a_terminal_and_q_quits_with_0(initialized, cli, no_color, monkeypatch):
    """A real pseudo-terminal of 80x24 (as over SSH, no mouse): the first page shows, q quits with 0.
    With NO_COLOR the screen carries no colour at all; without it, it does (so the check can fail)."""
    portal_space(cli)
    if not no_color:
        monkeypatch.delenv("NO_COLOR")
    code, output = _run_in_a_terminal(["portal"], [(b"Bakkerij Jansen", b"q")], env={})
    assert code == 0, output[-2000:]
    assert b"Traceback" not in output
    assert (_colour_codes(output) == []) is no_color, _colour_codes(output)[:5]
