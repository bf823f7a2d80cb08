"""The webhook (Meta's face) may show its own, publicly trusted certificate; the web UI
(the office's face) keeps its own."""

from __future__ import annotations

import pytest

from appliance.errors import GembokError
from tests.conftest import settings_for
from webui.serve import _both_or_neither


def test_by_default_the_webhook_shows_the_web_uis_certificate(tmp_path):
    settings = settings_for(tmp_path / "var")
    assert settings.webhook_cert_path == settings.tls_cert_path
    assert settings.webhook_key_path == settings.tls_key_path


def test_it_shows_the_certificate_meta_trusts_when_one_is_given(tmp_path):
    settings = settings_for(tmp_path / "var",
                            GEMBOK_WEBHOOK_CERT_FILE="/etc/letsencrypt/live/hook/fullchain.pem",
                            GEMBOK_WEBHOOK_KEY_FILE="/etc/letsencrypt/live/hook/privkey.pem")
    assert str(settings.webhook_cert_path) == "/etc/letsencrypt/live/hook/fullchain.pem"
    assert settings.tls_cert_path == tmp_path / "var" / "tls" / "cert.pem"
    _both_or_neither(settings)  # no error


def test_a_certificate_without_its_key_stops_the_start_with_one_line(tmp_path):
    settings = settings_for(tmp_path / "var",
                            GEMBOK_WEBHOOK_CERT_FILE="/etc/letsencrypt/live/hook/fullchain.pem")
    with pytest.raises(GembokError, match=r"set both webhook\.cert_file and webhook\.key_file"):
        _both_or_neither(settings)
