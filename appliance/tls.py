"""Provides the LAN UI's self-signed TLS certificate, made once when none is configured."""

from __future__ import annotations

import ipaddress
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from appliance.atomicfile import write_atomic
from appliance.errors import GembokError

VALID_DAYS = 825


class CertificateError(GembokError):
    """The configured certificate or key is missing, or only one of the two exists."""


def ensure_certificate(cert_path: Path, key_path: Path) -> bool:
    """Makes a self-signed certificate when neither file exists; returns True if it made one."""
    have_cert, have_key = cert_path.exists(), key_path.exists()
    if have_cert and have_key:
        return False
    if have_cert or have_key:
        present, absent = (cert_path, key_path) if have_cert else (key_path, cert_path)
        raise CertificateError(f"TLS {present} exists but {absent} does not: supply both, or "
                               "remove the one left to get a new self-signed pair")
    key = ec.generate_private_key(ec.SECP256R1())
    host = socket.gethostname()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Gembok on {host}"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gembok (self-signed)")])
    now = datetime.now(UTC)
    san = x509.SubjectAlternativeName([
        x509.DNSName("localhost"), x509.DNSName(host),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=VALID_DAYS))
            .add_extension(san, critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(key_path, key.private_bytes(serialization.Encoding.PEM,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()), mode=0o600)
    write_atomic(cert_path, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
    return True


def certificate_expiry(cert_path: Path) -> datetime:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return cert.not_valid_after_utc
