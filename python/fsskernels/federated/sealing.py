"""Sealing a client's 16-byte seed to aggregator 0, so the relaying server cannot read it.

What is computed: ECIES-style public-key encryption of the seed to aggregator 0's static X25519
key: a fresh ephemeral X25519 key pair per seal, shared secret -> HKDF-SHA256 -> a one-time
AES-128-GCM key (nonce 0 is safe because every key is used once), associated data = the round
context (e.g. run id and round number), so a sealed seed cannot be replayed in another round.

    sealed = ephemeral public key (32 B) || AES-GCM(seed) (16 B) || tag (16 B)    = 64 bytes

Errors: ValueError for malformed keys or blobs; ``SealError`` (a ValueError) when a blob fails
authentication (wrong key, wrong round, tampered). Needs the ``cryptography`` package (a
dependency of flwr); imported lazily.

Security notes: the client must get aggregator 0's public key from a trusted source (the
deployment's configuration, pinned), never from the server it uploads to: a server that could
substitute its own key would read every seed. The construction follows RFC 9180's (HPKE) base
mode in spirit (DHKEM(X25519) + HKDF + AEAD) without claiming wire compatibility.
"""
from __future__ import annotations

from .shares import SEED_BYTES

SEALED_BYTES = 32 + SEED_BYTES + 16
_INFO = b"fsskernels.federated.seal.v1"


class SealError(ValueError):
    """A sealed seed failed authentication (wrong key, wrong round context, or tampered)."""


def _crypto():
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("sealing needs the 'cryptography' package (pip install 'fsskernels[federated]')") from e
    return hashes, serialization, X25519PrivateKey, X25519PublicKey, AESGCM, HKDF


def _raw(pub) -> bytes:
    _, serialization, *_ = _crypto()
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _kdf(shared: bytes, eph_pub: bytes, recipient_pub: bytes) -> bytes:
    hashes, _, _, _, _, HKDF = _crypto()
    return HKDF(algorithm=hashes.SHA256(), length=16, salt=None, info=_INFO + eph_pub + recipient_pub).derive(shared)


class SealingKeyPair:
    """Aggregator 0's static X25519 key pair. ``public_bytes`` (32 B) is what clients pin."""

    def __init__(self, private_bytes: bytes | None = None) -> None:
        _, _, X25519PrivateKey, *_ = _crypto()
        if private_bytes is None:
            self._sk = X25519PrivateKey.generate()  # OS CSPRNG inside OpenSSL
        else:
            if not isinstance(private_bytes, (bytes, bytearray)) or len(private_bytes) != 32:
                raise ValueError("private_bytes: expected 32 bytes")
            self._sk = X25519PrivateKey.from_private_bytes(bytes(private_bytes))
        self.public_bytes = _raw(self._sk.public_key())

    def private_bytes(self) -> bytes:
        _, serialization, *_ = _crypto()
        return self._sk.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                      serialization.NoEncryption())

    def open(self, sealed: bytes, context: bytes) -> bytes:
        """The 16-byte seed inside ``sealed`` (SealError if it does not authenticate)."""
        _, _, _, X25519PublicKey, AESGCM, _ = _crypto()
        if not isinstance(sealed, (bytes, bytearray)) or len(sealed) != SEALED_BYTES:
            raise ValueError(f"sealed: expected {SEALED_BYTES} bytes")
        eph = bytes(sealed[:32])
        try:
            shared = self._sk.exchange(X25519PublicKey.from_public_bytes(eph))
            key = _kdf(shared, eph, self.public_bytes)
            return AESGCM(key).decrypt(b"\0" * 12, bytes(sealed[32:]), _ctx(context))
        except Exception as e:  # InvalidTag, or a low-order point
            raise SealError("sealed: authentication failed (wrong key, round context, or tampered)") from e


def _ctx(context) -> bytes:
    if isinstance(context, str):
        context = context.encode()
    if not isinstance(context, (bytes, bytearray)):
        raise ValueError("context: expected bytes or str")
    return bytes(context)


def seal_seed(seed: bytes, recipient_public: bytes, context) -> bytes:
    """Encrypt a 16-byte seed to the recipient's X25519 public key (64-byte blob)."""
    _, _, X25519PrivateKey, X25519PublicKey, AESGCM, _ = _crypto()
    if not isinstance(seed, (bytes, bytearray)) or len(seed) != SEED_BYTES:
        raise ValueError(f"seed: expected {SEED_BYTES} bytes")
    if not isinstance(recipient_public, (bytes, bytearray)) or len(recipient_public) != 32:
        raise ValueError("recipient_public: expected a 32-byte X25519 public key")
    eph = X25519PrivateKey.generate()
    eph_pub = _raw(eph.public_key())
    shared = eph.exchange(X25519PublicKey.from_public_bytes(bytes(recipient_public)))
    key = _kdf(shared, eph_pub, bytes(recipient_public))
    return eph_pub + AESGCM(key).encrypt(b"\0" * 12, bytes(seed), _ctx(context))
