"""Network transport: TCP links, TLS 1.3 with pinned certificates, framed and tagged messages.

Topology of a session (three processes on one to three hosts):
  party 0 listens at (host, port) for party 1        (the party link)
  the dealer listens at (dealer_host, dealer_port)  for party 0 and party 1 (two dealer links)
Every listener binds exactly the address it is given (never all interfaces), accepts exactly
the roles it expects (one connection each; a second "party 1" is refused) and closes its
listening socket once they are connected. The dealer never sees party-to-party traffic: the
party link is a direct connection.

Security (tls.py): with a TlsConfig every link is TLS 1.3 with mutual authentication against
pinned certificates, so a process without the right private key cannot take a role, and a
passive observer of any link sees only AEAD ciphertext (lengths and timing stay visible).
Plaintext (``tls=False``) is allowed only when every address is loopback (127.0.0.0/8, ::1,
localhost) and must be asked for explicitly; it trusts every local process.

A link is one TCP connection. TLS runs over an in-memory BIO (``ssl.SSLObject``) so that
one thread can send while another receives on the same connection (a lock serializes the
TLS state; socket I/O happens outside it). Receives have an idle timeout (no byte for
``timeout`` seconds -> PeerTimeoutError); EOF or a reset is PeerError at once (a killed
process's kernel closes its sockets). Rendezvous retries connecting until ``connect_timeout``
and never waits longer than that in total.
"""
from __future__ import annotations

import ipaddress
import queue
import socket
import ssl
import struct
import threading
import time

import numpy as np

from .channel import Channel, check_timeout
from .errors import PeerError, PeerTimeoutError
from .tls import TlsConfig, role_name

_HELLO = struct.Struct("<4sHB1s8x")  # magic, version, role code, status
_HELLO_MAGIC = b"FSMH"
_HELLO_VERSION = 1
_ROLE_CODE = {"party0": 0, "party1": 1, "dealer": 2}
_CODE_ROLE = {v: k for k, v in _ROLE_CODE.items()}
_CHUNK = 1 << 20


def check_port(port, name: str = "port") -> int:
    if isinstance(port, bool) or not isinstance(port, (int, np.integer)) or not 1 <= int(port) <= 65535:
        raise ValueError(f"{name}: must be an integer in 1..65535, got {port!r}")
    return int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_security(tls, role: str, hosts) -> TlsConfig | None:
    """Resolve the ``tls`` argument: a TlsConfig, a certificate directory, or False
    (plaintext, loopback only). None is refused: security must be chosen explicitly."""
    if tls is False:
        bad = [h for h in hosts if not is_loopback(h)]
        if bad:
            raise ValueError(f"tls: plaintext (tls=False) is allowed only on loopback addresses, got {bad[0]!r}; "
                             "give certificates (python -m fsskernels.mpc certs --out DIR; tls=DIR)")
        return None
    if tls is None or tls is True:
        raise ValueError("tls: choose the link security explicitly: a certificate directory / TlsConfig "
                         "(python -m fsskernels.mpc certs --out DIR), or tls=False for plaintext on loopback")
    if isinstance(tls, TlsConfig):
        if tls.role != role:
            raise ValueError(f"tls: the TlsConfig is for {tls.role!r}, this process is {role!r}")
        return tls
    if isinstance(tls, (str, bytes)) or hasattr(tls, "__fspath__"):
        return TlsConfig.from_dir(tls, role)
    raise ValueError(f"tls: expected a TlsConfig, a directory or False, got {type(tls).__name__}")


class Link:
    """One authenticated TCP connection to a peer role (optionally TLS via a memory BIO)."""

    def __init__(self, sock: socket.socket, tls_obj, who: str, timeout: float) -> None:
        self._sock = sock
        self._tls = tls_obj  # (SSLObject, incoming MemoryBIO, outgoing MemoryBIO) or None
        self.who = who
        self.timeout = float(timeout)
        self._tls_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._closed = False
        self.peer_role: str | None = None
        sock.settimeout(self.timeout)

    # -- raw socket -----------------------------------------------------------------------
    def _raw_send(self, data) -> None:
        try:
            self._sock.sendall(data)
        except socket.timeout:
            raise PeerTimeoutError(f"{self.who}: the peer accepted no data for {self.timeout:g} s") from None
        except OSError as exc:
            raise PeerError(f"{self.who}: connection lost ({exc})") from None

    def _raw_recv(self, n: int) -> bytes:
        try:
            data = self._sock.recv(n)
        except socket.timeout:
            raise PeerTimeoutError(f"{self.who}: no answer within {self.timeout:g} s (timed out)") from None
        except OSError as exc:
            raise PeerError(f"{self.who}: connection lost ({exc})") from None
        if not data:
            raise PeerError(f"{self.who}: connection closed by the peer")
        return data

    # -- TLS over memory BIOs ---------------------------------------------------------------
    def _flush(self) -> None:
        """Send whatever TLS wrote to the outgoing BIO (caller holds _send_lock)."""
        with self._tls_lock:
            out = self._tls[2].read()
        if out:
            self._raw_send(out)

    def handshake(self, deadline: float) -> None:
        obj, inc, _ = self._tls
        while True:
            with self._tls_lock:
                try:
                    obj.do_handshake()
                    done = True
                except ssl.SSLWantReadError:
                    done = False
                except ssl.SSLError as exc:
                    raise PeerError(f"{self.who}: TLS handshake failed ({exc.reason or exc})") from None
            with self._send_lock:
                self._flush()
            if done:
                return
            if time.monotonic() > deadline:
                raise PeerTimeoutError(f"{self.who}: TLS handshake timed out")
            data = self._raw_recv(65536)
            with self._tls_lock:
                inc.write(data)

    # -- messages -----------------------------------------------------------------------
    def send(self, *parts) -> None:
        """Send the concatenation of ``parts`` (bytes-like) in order; thread-safe."""
        if self._closed:
            raise PeerError(f"{self.who}: link is closed")
        with self._send_lock:
            for p in parts:
                mv = memoryview(p).cast("B")
                if self._tls is None:
                    self._raw_send(mv)
                    continue
                for off in range(0, len(mv), _CHUNK):
                    with self._tls_lock:
                        self._tls[0].write(mv[off : off + _CHUNK])
                        out = self._tls[2].read()
                    self._raw_send(out)

    def recv_into(self, buf) -> None:
        """Fill ``buf`` (writable bytes-like) with exactly len(buf) bytes from the peer."""
        mv = memoryview(buf).cast("B")
        got, n = 0, len(mv)
        while got < n:
            if self._tls is None:
                try:
                    k = self._sock.recv_into(mv[got:], n - got)
                except socket.timeout:
                    raise PeerTimeoutError(f"{self.who}: no answer within {self.timeout:g} s (timed out)") from None
                except OSError as exc:
                    raise PeerError(f"{self.who}: connection lost ({exc})") from None
                if k == 0:
                    raise PeerError(f"{self.who}: connection closed by the peer")
                got += k
                continue
            obj, inc, out = self._tls
            with self._tls_lock:
                try:
                    k = obj.read(n - got, mv[got:])
                except ssl.SSLWantReadError:
                    k = -1
                except ssl.SSLZeroReturnError:
                    raise PeerError(f"{self.who}: connection closed by the peer") from None
                except ssl.SSLError as exc:
                    raise PeerError(f"{self.who}: TLS error ({exc.reason or exc})") from None
                pending = out.pending
            if pending:
                with self._send_lock:
                    self._flush()
            if k > 0:
                got += k
            elif k == 0:
                raise PeerError(f"{self.who}: connection closed by the peer")
            else:
                data = self._raw_recv(_CHUNK)
                with self._tls_lock:
                    inc.write(data)

    def recv(self, n: int) -> np.ndarray:
        out = np.empty(int(n), np.uint8)
        if n:
            self.recv_into(out)
        return out

    def close(self) -> None:
        """Close the connection now (the peer's pending receive fails at once)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()


# ----------------------------------------------------------------------------- rendezvous
def _wrap(sock: socket.socket, tls: TlsConfig | None, server: bool, peers, who: str, timeout: float,
          deadline: float) -> Link:
    if tls is None:
        return Link(sock, None, who, timeout)
    ctx = tls.context(server, peers)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=server)
    link = Link(sock, (obj, inc, out), who, timeout)
    link.handshake(deadline)
    return link


def _hello(role: str, status: bytes = b"\x01") -> bytes:
    return _HELLO.pack(_HELLO_MAGIC, _HELLO_VERSION, _ROLE_CODE[role], status)


def _read_hello(link: Link) -> tuple[str, bytes]:
    magic, version, code, status = _HELLO.unpack(link.recv(_HELLO.size).tobytes())
    if magic != _HELLO_MAGIC or version != _HELLO_VERSION or code not in _CODE_ROLE:
        raise PeerError(f"{link.who}: the peer does not speak this protocol (bad hello)")
    return _CODE_ROLE[code], status


def _peer_role_from_tls(link: Link, tls: TlsConfig) -> str | None:
    der = link._tls[0].getpeercert(binary_form=True)
    return tls.role_of(der) if der else None


def listen(role: str, host: str, port: int, expect, tls: TlsConfig | None, timeout: float,
           connect_timeout: float) -> dict:
    """Bind (host, port), accept one authenticated connection per role in ``expect``, close
    the listening socket; returns {role: Link}. Refused connections (unknown certificate,
    a role already connected, garbage) are closed and do not count. PeerTimeoutError if
    the expected roles are not all connected within connect_timeout seconds."""
    deadline = time.monotonic() + connect_timeout
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ValueError(f"host: cannot resolve {host!r} ({exc})") from None
    fam, _, _, _, addr = infos[0]
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        ls.bind(addr)
    except OSError as exc:
        ls.close()
        raise PeerError(f"{role}: cannot listen on {host}:{port} ({exc})") from None
    ls.listen(8)
    links: dict = {}
    try:
        while len(links) < len(expect):
            left = deadline - time.monotonic()
            if left <= 0:
                missing = [r for r in expect if r not in links]
                raise PeerTimeoutError(f"{role}: rendezvous at {host}:{port}: {missing} did not connect within "
                                       f"{connect_timeout:g} s (timed out)")
            ls.settimeout(min(left, 1.0))
            try:
                conn, _ = ls.accept()
            except socket.timeout:
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(min(max(deadline - time.monotonic(), 0.1), 10.0))
            who = f"{role} <- incoming"
            try:
                link = _wrap(conn, tls, True, [r for r in expect if r not in links], who,
                             min(timeout, 10.0), min(deadline, time.monotonic() + 10.0))
                claimed, _ = _read_hello(link)
                if tls is not None and _peer_role_from_tls(link, tls) != claimed:
                    raise PeerError(f"{role}: a peer claimed {claimed!r} with another certificate")
                if claimed not in expect or claimed in links:
                    link.send(_hello(role, b"\x00"))
                    raise PeerError(f"{role}: refused a connection claiming {claimed!r}")
                link.send(_hello(role))
            except (PeerError, OSError, struct.error):
                conn.close()
                continue
            link.timeout = float(timeout)
            conn.settimeout(float(timeout))
            link.who = f"{role} <- {claimed}"
            link.peer_role = claimed
            links[claimed] = link
    except BaseException:
        for ln in links.values():
            ln.close()
        raise
    finally:
        ls.close()
    return links


def connect(role: str, peer: str, host: str, port: int, tls: TlsConfig | None, timeout: float,
            connect_timeout: float) -> Link:
    """Connect to ``peer`` listening at (host, port), retrying until connect_timeout;
    authenticate it (the pinned certificate of ``peer``) and introduce ourselves as ``role``."""
    deadline = time.monotonic() + connect_timeout
    last = "no attempt"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise PeerTimeoutError(f"{role}: could not reach {peer} at {host}:{port} within {connect_timeout:g} s "
                                   f"(timed out; last error: {last})")
        try:
            sock = socket.create_connection((host, port), timeout=min(left, 2.0))
        except socket.gaierror as exc:
            raise ValueError(f"host: cannot resolve {host!r} ({exc})") from None
        except OSError as exc:
            last = str(exc)
            time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            link = _wrap(sock, tls, False, [peer], f"{role} <- {peer}", min(timeout, max(left, 0.1)), deadline)
            if tls is not None and _peer_role_from_tls(link, tls) != peer:
                raise PeerError(f"{role}: the server at {host}:{port} is not the pinned {peer}")
            link.send(_hello(role))
            got, status = _read_hello(link)
        except PeerError as exc:
            sock.close()
            if "handshake" in str(exc) or "not the pinned" in str(exc):
                raise
            last = str(exc)
            time.sleep(0.05)
            continue
        if got != peer or status != b"\x01":
            sock.close()
            raise PeerError(f"{role}: {peer} at {host}:{port} refused the connection (answered as {got!r})")
        link.timeout = float(timeout)
        sock.settimeout(float(timeout))
        link.peer_role = peer
        return link


# ----------------------------------------------------------------------------- party channel
class SocketChannel(Channel):
    """The party-to-party channel over one Link. Sends go through a sender thread (so an
    exchange sends and receives at the same time, and a one-way send never blocks the
    program); receives run in the caller's thread."""

    def __init__(self, link: Link, party: int, timeout: float) -> None:
        super().__init__(party, timeout)
        self._link = link
        self._queue: queue.Queue = queue.Queue()
        self._send_error: Exception | None = None
        self._sender = threading.Thread(target=self._send_loop, name=f"mpc-send-{party}", daemon=True)
        self._sender.start()

    def _send_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                if self._send_error is None:
                    self._link.send(item[0], item[1])
            except Exception as exc:  # noqa: BLE001 - reported to the waiter and the next operation
                self._send_error = exc if isinstance(exc, PeerError) else PeerError(f"{self._link.who}: {exc}")
            finally:
                item[2].set()
                self._queue.task_done()

    def _put(self, header: bytes, payload: np.ndarray):
        if self._send_error is not None:
            raise PeerError(str(self._send_error))
        done = threading.Event()
        self._queue.put((header, payload, done))

        def wait() -> None:
            if not done.wait(self.timeout):
                raise PeerTimeoutError(f"{self._link.who}: the peer accepted no data for {self.timeout:g} s (timed out)")
            if self._send_error is not None:
                raise self._send_error
        return wait

    def _pull(self, check) -> np.ndarray:
        hdr = self._link.recv(24).tobytes()
        check(hdr)
        nbytes = struct.unpack_from("<Q", hdr, 16)[0]
        return self._link.recv(nbytes)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued message was handed to the kernel (or failed)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.001)
        if self._send_error is not None:
            raise PeerError(str(self._send_error))

    def abort(self, reason: str) -> None:
        self._broken = self._broken or reason
        self._link.close()
        self._queue.put(None)

    def close(self) -> None:
        try:
            if self._broken is None:
                self.flush()
        finally:
            self._queue.put(None)
            self._link.close()
