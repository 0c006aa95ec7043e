"""TLS 1.3 with pinned self-signed certificates for the links between parties and dealer.

Each process of a session has a role (``party0``, ``party1``, ``dealer``), a private key and a
self-signed certificate (``python -m fsskernels.mpc certs --out DIR``, see certs.py). Every
process is given the certificates of its peers (public; exchanged out of band) and pins them:
a connection is accepted only if the peer proves possession of the private key of the
certificate pinned for the role it is expected to have (both sides send certificates: mutual
authentication), and the link is encrypted and integrity-protected by TLS 1.3 (AEAD).

``TlsConfig.from_dir(DIR, role)`` reads ``DIR/<role>.key``, ``DIR/<role>.crt`` and the other
roles' ``.crt`` files that exist there. Pins are SHA-256 fingerprints of the DER certificate.

Contexts: TLS 1.3 only (``minimum_version = TLSv1_3``), the peers' certificates as the only
trust anchors, ``CERT_REQUIRED`` on both sides, no hostname check (identity is the pin, not a
name), no session tickets (no resumption state to protect).

Errors: ValueError naming the file or argument for missing/unreadable files; a peer that
fails authentication gives PeerError from the network layer.
"""
from __future__ import annotations

import hashlib
import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path

ROLES = ("party0", "party1", "dealer")


def fingerprint_der(der: bytes) -> str:
    """SHA-256 of a DER certificate, lowercase hex."""
    return hashlib.sha256(der).hexdigest()


def fingerprint_file(path) -> str:
    """SHA-256 fingerprint of the (first) certificate in a PEM file."""
    try:
        pem = Path(path).read_text()
        der = ssl.PEM_cert_to_DER_cert(pem[pem.index("-----BEGIN CERTIFICATE-----"):])
    except (OSError, ValueError) as exc:
        raise ValueError(f"certificate {path}: cannot read a PEM certificate ({exc})") from None
    return fingerprint_der(der)


def role_name(role) -> str:
    """'party0'/'party1'/'dealer' from a role name or a party number."""
    if role in (0, 1) and not isinstance(role, bool):
        return f"party{role}"
    if role not in ROLES:
        raise ValueError(f"role: must be one of {ROLES} or a party number, got {role!r}")
    return role


@dataclass(frozen=True)
class TlsConfig:
    """This process's credentials and its peers' pinned certificates.

    role: this process's role; cert/key: its PEM certificate and private key;
    peer_certs: role -> path of the peer's PEM certificate (its fingerprint is pinned)."""

    role: str
    cert: str
    key: str
    peer_certs: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        role_name(self.role)
        for name, p in (("cert", self.cert), ("key", self.key), *self.peer_certs.items()):
            if not os.path.isfile(p):
                raise ValueError(f"tls: {name} file {p} does not exist")
        for r in self.peer_certs:
            role_name(r)
        object.__setattr__(self, "_pins", {r: fingerprint_file(p) for r, p in self.peer_certs.items()})
        object.__setattr__(self, "fingerprint", fingerprint_file(self.cert))

    @classmethod
    def from_dir(cls, directory, role) -> "TlsConfig":
        """Credentials of ``role`` in ``directory`` (``<role>.crt``, ``<role>.key``) and every
        other role's ``<role>.crt`` found there."""
        role = role_name(role)
        d = Path(directory)
        if not d.is_dir():
            raise ValueError(f"tls: certificate directory {d} does not exist")
        peers = {r: str(d / f"{r}.crt") for r in ROLES if r != role and (d / f"{r}.crt").is_file()}
        return cls(role, str(d / f"{role}.crt"), str(d / f"{role}.key"), peers)

    def pin(self, role: str) -> str:
        """The pinned fingerprint of peer ``role`` (ValueError if none was given)."""
        pins = self._pins  # type: ignore[attr-defined]
        if role not in pins:
            raise ValueError(f"tls: no certificate of peer {role!r} was given to {self.role!r} (missing {role}.crt)")
        return pins[role]

    def role_of(self, der: bytes) -> str | None:
        """The peer role whose pinned certificate is ``der``, or None."""
        fp = fingerprint_der(der)
        for r, pin in self._pins.items():  # type: ignore[attr-defined]
            if pin == fp:
                return r
        return None

    def context(self, server: bool, peers) -> ssl.SSLContext:
        """A TLS 1.3 context trusting exactly the certificates of ``peers`` (roles)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.maximum_version = ssl.TLSVersion.TLSv1_3
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_REQUIRED
        try:
            ctx.load_cert_chain(self.cert, self.key)
            cadata = "".join(Path(self.peer_certs[r]).read_text() for r in peers if r in self.peer_certs)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"tls: cannot load the credentials of {self.role!r}: {exc}") from None
        if not cadata:
            raise ValueError(f"tls: {self.role!r} has no certificate of {list(peers)}")
        ctx.load_verify_locations(cadata=cadata)
        if server:
            ctx.num_tickets = 0
        return ctx
