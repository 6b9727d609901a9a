"""A real Dovecot IMAP server on 127.0.0.1 for tests and benchmarks, in a temporary folder.

`DovecotServer` writes its own config (IMAP with STARTTLS on one free port, IMAP over TLS on
another, a self-signed certificate for 127.0.0.1, a passwd-file user, a Maildir home), starts
`dovecot -F -c FILE` in a new process group, and can be stopped, killed (every process of it at
once, as a crash or a dropped network would) and started again on the same ports.
Messages are written straight into the Maildir (`cur/` when seeded, `new/` when they "arrive"),
and a folder's UIDVALIDITY can be reset by deleting Dovecot's uid list and index files for it.

Traps met (see ../shared/SERVERS-NOTES.md): imap-login refuses to run as root, and mail access
for uid 0 is refused, so as root the mail user is `nobody` and the Maildir is chowned to it; the
temporary folder must be traversable by that user (pytest's own tmp dirs are 0700 root, so this
one lives directly under the system temp dir); the daemon keeps inherited stdout/stderr open,
so its output goes to a file; files the auth process reads must not take the warehouse's umask
of 077 ("Temporary authentication failure"); base_dir (unix sockets, 108-byte path limit) stays short; failed
logins are slowed down by anvil's auth penalty (2, 4, 8... s per source IP) unless the
anvil-auth-penalty listener is disabled and the user has `nodelay`.
"""

from __future__ import annotations

import base64
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

STARTUP_TIMEOUT_S = 15


class DovecotUnavailable(RuntimeError):
    """Dovecot is not installed or would not start here; the message says why."""


class DovecotNotInstalled(DovecotUnavailable):
    """There is no dovecot binary (as opposed to one that would not start)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def encode_folder_name(name: str) -> str:
    """A folder name as Dovecot's Maildir++ layout stores it on disk: modified UTF-7, with the
    IMAP hierarchy separator '/' written as '.'."""
    out, run = [], []

    def flush():
        if run:
            raw = "".join(run).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",")
                       + "-")
            run.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out).replace("/", ".")


def make_message(n: int, *, sender: str = "Alice Example <alice@example.com>",
                 to: str = "Owner <owner@example.org>", cc: str | None = None,
                 subject: str | None = None, message_id: str | None = None,
                 when: datetime | None = None, body: str | None = None) -> bytes:
    """An RFC 5322 message numbered `n`, with a Message-ID of <msg-n@kith.test> unless given."""
    when = when or datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc) + timedelta(minutes=n)
    lines = [f"Return-Path: <{sender.split('<')[-1].rstrip('>')}>",
             f"From: {sender}", f"To: {to}"]
    if cc:
        lines.append(f"Cc: {cc}")
    lines += [f"Subject: {subject or f'Message {n}'}",
              f"Date: {format_datetime(when)}",
              f"Message-ID: <{message_id or f'msg-{n}@kith.test'}>",
              "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "",
              body or f"Body of message {n}. Nobody should read this.", ""]
    return "\r\n".join(lines).encode("utf-8")


@dataclass
class DovecotServer:
    """One Dovecot instance with one user. Folders are IMAP names ('INBOX', 'Sent', 'Entwürfe')."""
    root: Path
    user: str = "kith"
    password: str = "correct horse battery staple"
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)          # plain IMAP, STARTTLS offered
    tls_port: int = field(default_factory=free_port)      # IMAP over TLS (imaps)
    process: subprocess.Popen | None = None
    _counter: int = 0

    @classmethod
    def create(cls, **kwargs) -> "DovecotServer":
        binary = shutil.which("dovecot") or ("/usr/sbin/dovecot"
                                             if os.path.exists("/usr/sbin/dovecot") else None)
        if binary is None:
            raise DovecotNotInstalled(
                "dovecot is not installed (Debian: apt-get install dovecot-imapd)")
        # Directly under the temp dir, not pytest's 0700 tmp_path: the mail user must get in.
        root = Path(tempfile.mkdtemp(prefix="kith-dovecot-"))
        os.chmod(root, 0o711)
        server = cls(root=root, **kwargs)
        # The warehouse sets a process-wide umask of 077; Dovecot's unprivileged auth and login
        # processes must still read the passwd file and the state and run dirs.
        umask = os.umask(0o022)
        try:
            server._write_config()
        finally:
            os.umask(umask)
        server.create_folder("INBOX")
        return server

    # -- layout -----------------------------------------------------------------------------

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def maildir(self) -> Path:
        return self.home / "Maildir"

    @property
    def base_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def cert_path(self) -> Path:
        """The server's self-signed certificate (for 127.0.0.1 and localhost): trust it as a CA."""
        return self.root / "cert.pem"

    def folder_dir(self, folder: str) -> Path:
        if folder.upper() == "INBOX":
            return self.maildir
        return self.maildir / ("." + encode_folder_name(folder))

    def _mail_ids(self) -> tuple[int, int, str]:
        """uid, gid and user name that own the mail: `nobody` as root, else whoever we are."""
        if os.geteuid() == 0:
            pw = pwd.getpwnam("nobody")
            return pw.pw_uid, pw.pw_gid, pw.pw_name
        return os.getuid(), os.getgid(), pwd.getpwuid(os.getuid()).pw_name

    def _chown(self, path: Path) -> None:
        uid, gid, _ = self._mail_ids()
        if os.geteuid() == 0:
            os.chown(path, uid, gid)

    def _write_config(self) -> None:
        uid, gid, name = self._mail_ids()
        for d in (self.base_dir, self.root / "state"):
            d.mkdir(mode=0o755)
        self._write_certificate()
        self.home.mkdir(mode=0o700)
        self._chown(self.home)
        (self.root / "passwd").write_text(
            f"{self.user}:{{PLAIN}}{self.password}:{uid}:{gid}::{self.home}::nodelay=yes\n")
        if os.geteuid() == 0:
            users = ""   # defaults: dovenull for login, dovecot for internal services
        else:
            group = grp.getgrgid(os.getgid()).gr_name
            users = (f"default_login_user = {name}\ndefault_internal_user = {name}\n"
                     f"default_internal_group = {group}\n")
        self.config_path.write_text(f"""\
# Written by tests/servers/dovecot.py for one test session.
protocols = imap
listen = {self.host}
instance_name = kith-test-{self.port}
base_dir = {self.base_dir}
state_dir = {self.root / "state"}
log_path = {self.log_path}
info_log_path = {self.log_path}
ssl = yes
ssl_cert = <{self.cert_path}
ssl_key = <{self.root / "key.pem"}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
first_valid_uid = 1
first_valid_gid = 1
{users}
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = {self.root / "passwd"}
}}
userdb {{
  driver = passwd-file
  args = {self.root / "passwd"}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No auth penalty: failed logins in tests would otherwise wait 2, 4, 8... seconds.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")

    def _write_certificate(self) -> None:
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kith test dovecot")])
        now = datetime.now(timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
                .add_extension(x509.SubjectAlternativeName([
                    x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(self.host))]),
                    critical=False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path = self.root / "key.pem"
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        os.chmod(key_path, 0o600)

    # -- mail ---------------------------------------------------------------------------------

    def create_folder(self, folder: str) -> Path:
        """Create a folder (and, for a sub-folder, mark it as one) if it does not exist."""
        path = self.folder_dir(folder)
        for d in (self.maildir, path):
            for sub in ("", "cur", "new", "tmp"):
                p = d / sub
                if not p.exists():
                    p.mkdir(mode=0o700)
                    self._chown(p)
        if path != self.maildir and not (path / "maildirfolder").exists():
            (path / "maildirfolder").touch()
            self._chown(path / "maildirfolder")
        return path

    def add_message(self, folder: str, message: bytes, *, seen: bool = False,
                    arrived: bool = False) -> Path:
        """Write one message into a folder: into `cur/` as if already there, or into `new/` as
        newly delivered mail (`arrived=True`). Unseen unless `seen`."""
        path = self.create_folder(folder)
        self._counter += 1
        base = f"{int(time.time())}.M{self._counter}P{os.getpid()}.kith,S={len(message)}"
        if arrived:
            target = path / "new" / base
        else:
            target = path / "cur" / (base + (":2,S" if seen else ":2,"))
        tmp = path / "tmp" / base
        tmp.write_bytes(message)
        self._chown(tmp)
        os.rename(tmp, target)   # Maildir delivery: never a half-written file in cur/ or new/
        return target

    def add_messages(self, folder: str, messages, **kwargs) -> list[Path]:
        return [self.add_message(folder, m, **kwargs) for m in messages]

    def reset_uidvalidity(self, folder: str) -> None:
        """Make Dovecot forget the folder's UIDs: the next session gives it a new UIDVALIDITY
        and numbers its messages again. Meant for a moment when no client has it selected."""
        path = self.folder_dir(folder)
        for p in path.iterdir():
            if p.name == "dovecot-uidlist" or p.name.startswith("dovecot.index"):
                p.unlink()

    def number_from(self, folder: str, uid: int) -> None:
        """Make Dovecot give the folder's messages UIDs from `uid` on (servers that moved or
        merged mailboxes start high). Only before any session has opened the folder."""
        path = self.create_folder(folder) / "dovecot-uidlist"
        path.write_text(f"3 V{int(time.time())} N{uid}\n")
        self._chown(path)

    def clear(self) -> None:
        """Remove every folder and message (and Dovecot's per-user state) for a fresh start."""
        if self.maildir.exists():
            shutil.rmtree(self.maildir)
        self.create_folder("INBOX")

    # -- process ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start Dovecot and wait for its IMAP greeting. Raises DovecotUnavailable with the
        reason (and the log's tail) when it will not start."""
        if self.process is not None and self.process.poll() is None:
            return
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        log = open(self.root / "dovecot.stdout", "ab")
        try:
            # -F: stay in the foreground, so this Popen is the master; a new session makes its
            # children one process group that kill() can end at once.
            self.process = subprocess.Popen(
                [binary, "-F", "-c", str(self.config_path)], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise DovecotUnavailable(
                    f"dovecot exited with status {self.process.returncode}: {self._log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=2) as s:
                    if s.recv(200).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise DovecotUnavailable(
                    f"dovecot did not greet on {self.host}:{self.port} within "
                    f"{STARTUP_TIMEOUT_S}s: {self._log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop Dovecot cleanly by the pid in base_dir/master.pid, killing what is left."""
        pid_file = self.base_dir / "master.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def kill(self) -> None:
        """End every Dovecot process of this instance at once (SIGKILL): open IMAP sessions
        see their connection drop, as when a server crashes."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        self.process = None
        (self.base_dir / "master.pid").unlink(missing_ok=True)

    def restart(self) -> None:
        self.kill()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _log_tail(self) -> str:
        text = ""
        for p in (self.log_path, self.root / "dovecot.stdout"):
            if p.exists():
                text += p.read_text(errors="replace")
        return text[-2000:].strip() or "(no log output)"
