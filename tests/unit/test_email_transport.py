"""Gembok's e-mail leaves only over TLS to a server whose certificate checks out, and no
value in it can add a header or a recipient."""

from __future__ import annotations

import pytest

from appliance.config import load_settings
from appliance.notify.email import EmailError, send_email


def smtp_settings(smtpd, **more: str):
    return load_settings({"GEMBOK_SMTP_HOST": "127.0.0.1", "GEMBOK_SMTP_PORT": str(smtpd.port),
                          **more}).smtp


def test_a_mail_server_whose_certificate_nobody_vouches_for_gets_nothing(smtpd):
    # Given a mail server with a self-signed certificate the box was not told to trust
    # When Gembok has a notice to send through it
    with pytest.raises(EmailError):
        send_email(smtp_settings(smtpd), ["it@toko.example"], "Gembok: test", "halo")
    # Then nothing was sent: the TLS handshake failed before any message
    assert smtpd.handler.messages == []
    # While the same server, once its CA is given (smtp.ca_file), gets the message
    send_email(smtp_settings(smtpd, GEMBOK_SMTP_CA_FILE=str(smtpd.ca_file)),
               ["it@toko.example"], "Gembok: test", "halo")
    assert [m.rcpt_tos for m in smtpd.handler.messages] == [["it@toko.example"]]


def test_a_line_break_in_an_address_or_subject_cannot_add_a_recipient(smtpd):
    smtp = smtp_settings(smtpd, GEMBOK_SMTP_CA_FILE=str(smtpd.ca_file))
    for to, subject in ((["ayu@toko.example\r\nBcc: thief@evil.example"], "Gembok: test"),
                        (["ayu@toko.example"], "Gembok\r\nBcc: thief@evil.example")):
        with pytest.raises((EmailError, ValueError)):
            send_email(smtp, to, subject, "halo")
    assert smtpd.handler.messages == []
