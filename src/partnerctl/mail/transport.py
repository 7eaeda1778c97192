"""The transports that hand a composed e-mail over: a local Maildir (default) or an SMTP server.

A transport is opened once per batch, sends messages one by one and is closed at the end. Each
send either returns the receiving side's answer, or raises PermanentFailure (this message will never
go: 5xx, refused recipient), TemporaryFailure (try this message again later: 4xx, timeout) or
TransportUnavailable (nothing can go right now: connection refused, login or TLS failure).
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from partnerctl.mail.message import as_bytes

DEFAULT_TIMEOUT = 30
DEFAULT_FROM = "partnerctl@localhost"


class DeliveryError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentFailure(DeliveryError):
    """This message must not be tried again (e.g. 550 no such user)."""


class TemporaryFailure(DeliveryError):
    """This message may go later (e.g. 451, a dropped connection during DATA)."""


class TransportUnavailable(DeliveryError):
    """The transport cannot send anything now; the whole batch stays pending."""


@dataclass(frozen=True)
class MailSettings:
    """Plain transport settings, built by the command layer from the active profile."""

    transport: str = "maildir"
    from_addr: str = DEFAULT_FROM
    maildir: Path | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_security: str = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout: float = DEFAULT_TIMEOUT
    smtp_cafile: str | None = None

    @property
    def port(self) -> int:
        if self.smtp_port:
            return self.smtp_port
        return {"ssl": 465, "starttls": 587}.get(self.smtp_security, 25)

    def describe(self) -> str:
        if self.transport == "maildir":
            return f"maildir {self.maildir}"
        return f"smtp {self.smtp_host}:{self.port} ({self.smtp_security})"

    def __repr__(self) -> str:  # never show the password, even in a traceback
        return f"MailSettings({self.describe()}, from={self.from_addr!r})"


class MaildirTransport:
    """Delivers into a Maildir (stdlib `mailbox` layout), idempotently per Message-ID.

    The file name is derived from the Message-ID and moved into new/ with a hard link (which never
    overwrites), so a message sent again after a crash between delivery and bookkeeping lands once.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._seen: set[str] | None = None

    def open(self) -> None:
        import mailbox

        try:
            # Mail may hold client data: only the owner may read it (mailbox uses 0o700 below too).
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            mailbox.Maildir(str(self.path), create=True)
        except OSError as exc:
            raise TransportUnavailable(f"cannot create the Maildir {self.path}: {exc.strerror}") from None

    def _delivered_before(self, name: str) -> bool:
        if (self.path / "new" / name).exists():
            return True
        if self._seen is None:
            # A mail reader moves read mail to cur/ as NAME:2,FLAGS; list it once per batch.
            self._seen = {n.split(":", 1)[0] for n in os.listdir(self.path / "cur")}
        return name in self._seen

    def send(self, email: EmailMessage, sender: str, recipient: str) -> str:
        import hashlib

        mid = str(email["Message-ID"])
        name = f"{hashlib.sha256(mid.encode()).hexdigest()[:32]}.partnerctl"
        target = self.path / "new" / name
        if self._delivered_before(name):
            return f"already in {target}"
        tmp = self.path / "tmp" / f"{name}.{os.getpid()}.{time.monotonic_ns()}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(as_bytes(email))
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, target)
            except FileExistsError:
                return f"already in {target}"
            finally:
                os.unlink(tmp)
        except OSError as exc:
            raise TransportUnavailable(f"cannot write to the Maildir {self.path}: {exc.strerror}") from None
        return f"delivered to {target}"

    def close(self) -> None:
        self._seen = None


class SmtpTransport:
    """One SMTP connection per batch, reopened if the server drops it between messages."""

    def __init__(self, settings: MailSettings) -> None:
        if not settings.smtp_host:
            raise TransportUnavailable("mail.smtp.host is not set")
        self.settings = settings
        self.conn: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        # Python's smtplib does not verify certificates unless given a context that does.
        return ssl.create_default_context(cafile=self.settings.smtp_cafile)

    def open(self) -> None:
        self._connect()

    def _connect(self) -> None:
        s = self.settings
        helo = socket.gethostname() or "localhost"  # not getfqdn(): that can block on DNS
        try:
            if s.smtp_security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.smtp_host, s.port, timeout=s.smtp_timeout, context=self._context(), local_hostname=helo
                )
            else:
                conn = smtplib.SMTP(s.smtp_host, s.port, timeout=s.smtp_timeout, local_hostname=helo)
            conn.ehlo()
            if s.smtp_security == "starttls":
                conn.starttls(context=self._context())
                conn.ehlo()
            if s.smtp_username:
                self._login(conn)
        except smtplib.SMTPAuthenticationError as exc:
            raise TransportUnavailable(
                f"the SMTP server refused the login of {s.smtp_username!r}: {_answer(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise TransportUnavailable(f"{s.smtp_host}:{s.port}: {exc}") from None
        except smtplib.SMTPResponseException as exc:
            raise TransportUnavailable(
                f"{s.smtp_host}:{s.port} refused the session: {_answer(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise TransportUnavailable(
                f"TLS with {s.smtp_host}:{s.port} failed: certificate verify failed ({exc.verify_message}); "
                "if the server uses a private CA, point mail.smtp.cafile at it"
            ) from None
        except ssl.SSLError as exc:
            raise TransportUnavailable(
                f"TLS with {s.smtp_host}:{s.port} failed: {exc.reason or exc}"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportUnavailable(f"cannot reach {s.smtp_host}:{s.port}: {exc}") from None
        self.conn = conn

    def _login(self, conn: smtplib.SMTP) -> None:
        s = self.settings
        offered = conn.esmtp_features.get("auth", "").upper().split()
        for mechanism in ("PLAIN", "LOGIN"):
            if mechanism in offered:
                # One mechanism, one try: smtplib.login() would replay a refused password through every
                # mechanism the server offers.
                conn.user, conn.password = s.smtp_username, s.smtp_password or ""
                conn.auth(mechanism, getattr(conn, f"auth_{mechanism.lower()}"))
                return
        conn.login(s.smtp_username or "", s.smtp_password or "")

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.close()
        self.conn = None

    def send(self, email: EmailMessage, sender: str, recipient: str) -> str:
        # CRLF line ends: smtplib sends bytes as they are, and a bare LF in DATA is refused by
        # strict servers (RFC 5321 2.3.8), or taken as one line over 1000 characters.
        data = as_bytes(email, linesep="\r\n")
        for attempt in (1, 2):
            if self.conn is None:
                self._connect()
            try:
                return self._transaction(data, sender, recipient)
            except _DroppedBeforeData as exc:
                # Nothing was handed over yet, so reconnecting and trying again cannot duplicate.
                self._drop()
                if attempt == 2:
                    raise TemporaryFailure(f"the SMTP server dropped the connection: {exc}") from None
        raise AssertionError("unreachable")

    def _transaction(self, data: bytes, sender: str, recipient: str) -> str:
        conn = self.conn
        assert conn is not None
        try:
            # Bodies are quoted-printable/base64 (7-bit), so no BODY=8BITMIME is needed.
            # sender/recipient are bare addr-specs already (message.envelope_*): the commands are
            # written directly, sparing smtplib's quoteaddr() a second address parse per command.
            code, resp = conn.docmd("mail", f"FROM:<{sender}>")
            if code != 250:
                self._reset()
                _raise_for(code, resp, f"sender {sender} refused")
            code, resp = conn.docmd("rcpt", f"TO:<{recipient}>")
            if code not in (250, 251):
                self._reset()
                _raise_for(code, resp, f"recipient {recipient} refused")
        except smtplib.SMTPServerDisconnected as exc:
            raise _DroppedBeforeData(str(exc)) from None
        except (TimeoutError, ConnectionError) as exc:
            raise _DroppedBeforeData(str(exc) or type(exc).__name__) from None
        try:
            code, resp = conn.data(data)
        except smtplib.SMTPDataError as exc:
            self._reset()
            _raise_for(exc.smtp_code, exc.smtp_error, "message refused")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # The server may or may not have taken it: try again later (the Message-ID stays the same).
            self._drop()
            raise TemporaryFailure(f"connection lost while sending: {exc or type(exc).__name__}") from None
        if code != 250:
            self._reset()
            _raise_for(code, resp, "message refused")
        return _answer(code, resp)

    def _reset(self) -> None:
        try:
            if self.conn is not None:
                self.conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.conn.quit()
        self._drop()


class _DroppedBeforeData(Exception):
    pass


def _answer(code: int, resp: bytes | str) -> str:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    return f"{code} {' '.join(text.split())}".strip()


def _raise_for(code: int, resp: bytes | str, what: str) -> None:
    reason = f"{what}: {_answer(code, resp)}"
    if 500 <= code < 600:
        raise PermanentFailure(reason)
    raise TemporaryFailure(reason)


def open_transport(settings: MailSettings) -> MaildirTransport | SmtpTransport:
    if settings.transport == "smtp":
        transport: MaildirTransport | SmtpTransport = SmtpTransport(settings)
    else:
        if settings.maildir is None:
            raise TransportUnavailable("no Maildir path")
        transport = MaildirTransport(settings.maildir)
    transport.open()
    return transport
