"""Self-signed certificates for the TLS links (``python -m fsskernels.mpc certs --out DIR``).

For each role (party0, party1, dealer by default) writes ``<role>.key`` (ECDSA P-256 private
key, PKCS#8 PEM, file mode 0600, never overwritten unless ``force``) and ``<role>.crt`` (a
self-signed X.509 certificate, CN=fsskernels-<role>, valid for ``days``), and returns the
SHA-256 fingerprints. Keys come from the OS CSPRNG (inside OpenSSL, through the
``cryptography`` package, or the ``openssl`` command when that package is missing).

Deployment: each host runs ``certs --out DIR --role <its role>`` and sends only its ``.crt`` to
the others (the ``.key`` never leaves the host); every process then finds its own key and the
peers' certificates in its DIR (``TlsConfig.from_dir``).
"""
from __future__ import annotations

import datetime
import os
import shutil
import subprocess
from pathlib import Path

from .tls import ROLES, fingerprint_file, role_name


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _make_with_cryptography(role: str, days: int) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"fsskernels-{role}")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            cert.public_bytes(serialization.Encoding.PEM))


def _make_with_openssl(role: str, days: int, tmp: Path) -> tuple[bytes, bytes]:
    exe = shutil.which("openssl")
    if exe is None:
        raise RuntimeError("certs: needs the 'cryptography' package or the 'openssl' command")
    k, c = tmp / f".{role}.key.tmp", tmp / f".{role}.crt.tmp"
    try:
        subprocess.run([exe, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", str(k), "-out", str(c), "-days", str(days), "-subj", f"/CN=fsskernels-{role}",
                        "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
                        "-addext", "keyUsage=critical,digitalSignature,keyCertSign"],
                       check=True, capture_output=True)
        return k.read_bytes(), c.read_bytes()
    finally:
        for p in (k, c):
            if p.exists():
                p.unlink()


def make_certs(out, roles=ROLES, days: int = 365, force: bool = False, engine: str = "auto") -> dict:
    """Write key + self-signed certificate for each role into ``out``; returns
    {role: sha256 fingerprint}. ValueError for bad arguments or existing keys (without force)."""
    roles = [role_name(r) for r in roles]
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 36500:
        raise ValueError(f"days: must be an integer in 1..36500, got {days!r}")
    if engine not in ("auto", "cryptography", "openssl"):
        raise ValueError(f"engine: must be 'auto', 'cryptography' or 'openssl', got {engine!r}")
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    for r in roles:
        if not force and ((d / f"{r}.key").exists() or (d / f"{r}.crt").exists()):
            raise ValueError(f"out: {d / r}.key/.crt exists (use force to replace it)")
    use_crypto = engine == "cryptography"
    if engine == "auto":
        try:
            import cryptography  # noqa: F401

            use_crypto = True
        except ImportError:
            use_crypto = False
    fps = {}
    for r in roles:
        key, crt = _make_with_cryptography(r, days) if use_crypto else _make_with_openssl(r, days, d)
        _write_private(d / f"{r}.key", key)
        (d / f"{r}.crt").write_bytes(crt)
        fps[r] = fingerprint_file(d / f"{r}.crt")
    return fps
