"""Makes the private CA of a Gembok spread over several hosts, and the certificates of the
links between them: PostgreSQL (the store) and Redis (the broker), each for the address
the other hosts reach it at. Run by site.yml on the controller, once per run.

Why a CA of its own, on the controller: the links are Gembok's alone (no browser or
outside client ever sees them), the hosts check each other's names against it
(verify-full), and the controller is where the admin keeps the inventory and the vault
anyway. The CA's key never leaves this directory; each host gets its own certificate and
key and the CA's certificate. A certificate is made again only when its address changed
or it has less than 30 days left, so a second run changes nothing. Prints one JSON line:
{"changed": true|false}.

    python ansible/links_pki.py --dir pki --link postgres=10.0.0.3 --link redis=10.0.0.3
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS, LINK_DAYS, RENEW_DAYS = 3650, 825, 30


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(path.with_suffix(".tmp"), path)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gembok"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _ca(folder: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, bool]:
    cert_path, key_path = folder / "ca.crt", folder / "ca.key"
    if cert_path.exists() and key_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return x509.load_pem_x509_certificate(cert_path.read_bytes()), key, False
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("Gembok links CA")
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(minutes=5))
            .not_valid_after(_now() + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    _write_key(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key, True


def _subject_name(address: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(address))
    except ValueError:
        return x509.DNSName(address)


def _current(path: Path, address: str, ca: x509.Certificate) -> bool:
    if not path.exists() or not path.with_suffix(".key").exists():
        return False
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return (cert.issuer == ca.subject and list(names) == [_subject_name(address)]
            and cert.not_valid_after_utc - _now() > datetime.timedelta(days=RENEW_DAYS))


def _link(folder: Path, service: str, address: str, ca: x509.Certificate,
          ca_key: ec.EllipticCurvePrivateKey) -> bool:
    path = folder / f"{service}.crt"
    if _current(path, address, ca):
        return False
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(f"Gembok {service} at {address}"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(minutes=5))
            .not_valid_after(_now() + datetime.timedelta(days=LINK_DAYS))
            .add_extension(x509.SubjectAlternativeName([_subject_name(address)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write_key(path.with_suffix(".key"), key)
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--link", action="append", default=[], metavar="SERVICE=ADDRESS")
    args = parser.parse_args()
    args.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca, ca_key, changed = _ca(args.dir)
    for link in args.link:
        service, _, address = link.partition("=")
        changed = _link(args.dir, service, address, ca, ca_key) or changed
    print(json.dumps({"changed": changed}))


if __name__ == "__main__":
    main()
