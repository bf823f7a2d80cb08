"""A refusal is a 404 to the browser and a line in the log for the admin (ids only)."""

from __future__ import annotations

import logging

from tests.web.conftest import sign_in_as


def test_an_agent_refused_another_divisions_conversation_leaves_a_log_line(world, caplog):
    citra = sign_in_as(world, "citra")  # Billing
    with caplog.at_level(logging.WARNING, logger="webui.access"):
        resp = citra.get(f"/api/conversations/{world.conversations['sales']}")
    assert resp.status_code == 404
    [line] = [r.getMessage() for r in caplog.records if r.name == "webui.access"]
    assert f"user:{world.users['citra']}" in line and "/api/conversations/<" in line
    assert "Siti" not in line


def test_a_staff_email_address_with_a_line_break_is_refused(world):
    ayu = sign_in_as(world, "ayu")
    resp = ayu.post("/api/admin/users", {"username": "baru7", "display_name": "Baru",
                                         "role": "agent", "email": "a@b.example\nBcc: x@y.z"})
    assert resp.status_code == 422 and "e-mail address" in resp.get_json()["error"]
