"""The nginx site the role installs, read as text: TLS, redirects, forwarded addresses.

The deploy tests prove the box as a whole; these read the template itself, so that a
change to it that weakens TLS, lists a directory or believes a client's own
X-Forwarded-For fails at once, without booting a Debian box.
"""

from __future__ import annotations

import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from appliance.tls import ensure_certificate

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "ansible/roles/gembok/templates/etc/nginx/sites-available/gembok.conf.j2"


def directives(text: str) -> list[str]:
    """The site's directives, comments (nginx's and Jinja's) left out."""
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    return [line.split("#", 1)[0].strip() for line in text.splitlines()
            if line.split("#", 1)[0].strip()]


def servers(text: str) -> dict[str, str]:
    """The two server blocks, by the port variable they listen on."""
    blocks = re.split(r"\nserver \{", text)[1:]
    return {("webhook" if "gembok__webhook_port" in b.split("\n", 2)[1] else "web"): b
            for b in blocks}


def test_tls_is_1_2_or_1_3_with_forward_secret_aead_ciphers_only():
    lines = directives(SITE.read_text())
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in lines
    [ciphers] = [line for line in lines if line.startswith("ssl_ciphers ")]
    suites = ciphers.removeprefix("ssl_ciphers ").rstrip(";").split(":")
    assert suites and all(s.startswith("ECDHE-") and re.search(r"GCM|CHACHA20-POLY1305", s)
                          for s in suites), suites
    assert "ssl_session_tickets off;" in lines
    assert set(servers(SITE.read_text())) == {"web", "webhook"}
    listens = [line for line in lines if line.startswith("listen ")]
    assert len(listens) == 4 and all(re.fullmatch(r"listen [^;]*\}\} ssl( http2)?;", line)
                                     for line in listens), listens  # no plain-text port


def test_only_the_staff_page_redirects_plain_http_and_the_webhook_never_does():
    blocks = servers(SITE.read_text())
    assert "error_page 497 =301 https://" in blocks["web"]
    assert "497" not in blocks["webhook"] and "return 301" not in blocks["webhook"]


def test_the_front_writes_the_client_address_itself():
    lines = directives(SITE.read_text())
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in lines
    assert not [line for line in lines if "proxy_add_x_forwarded_for" in line
                or "real_ip_header" in line or "set_real_ip_from" in line]


def test_the_front_lists_no_directory_names_no_version_and_spools_no_reply():
    text = SITE.read_text()
    lines = directives(text)
    assert not [line for line in lines if line.startswith(("autoindex", "root ", "alias "))]
    assert text.count("server_tokens off;") == len(servers(text)) == 2
    assert "proxy_max_temp_file_size 0;" in lines  # a decrypted attachment never hits disk


def test_the_self_signed_certificate_is_ecdsa_p256_signed_with_sha256(tmp_path):
    assert ensure_certificate(tmp_path / "cert.pem", tmp_path / "key.pem")
    cert = x509.load_pem_x509_certificate((tmp_path / "cert.pem").read_bytes())
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    assert oct((tmp_path / "key.pem").stat().st_mode & 0o777) == "0o600"


def test_no_request_body_waits_on_disk_in_clear():
    """A webhook names customers; an agent's attachment is a customer's document: a body
    that nginx holds until it is whole waits under /run (tmpfs), never on a disk."""
    for name, block in servers(SITE.read_text()).items():
        assert re.search(r"\n\tclient_body_temp_path /run/[\w-]+;", block), name
