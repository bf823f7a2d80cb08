"""The IT admin at 2 a.m.: accounts and divisions from the box's command line."""

from __future__ import annotations

import re

from click.testing import CliRunner

from appliance.auth.passwords import verify_password
from appliance.cli import cli
from appliance.store.accounts import UserSession
from appliance.store.db import db
from appliance.store.models import User


def run(settings, *args: str):
    result = CliRunner().invoke(cli, list(args), env={"GEMBOK_DATA_DIR": str(settings.data_dir)},
                                catch_exceptions=False)
    db.close()
    return result


def test_an_admin_creates_a_division_and_an_agent_then_resets_a_forgotten_password(rt, settings):
    assert run(settings, "division", "create", "Billing").exit_code == 0
    made = run(settings, "user", "create", "citra", "--role", "agent", "--division", "Billing")
    assert made.exit_code == 0
    first = re.search(r"one-time password: (\S+)", made.output).group(1)
    listing = run(settings, "user", "list").output
    assert "citra" in listing and "agent" in listing
    again = run(settings, "user", "reset-password", "citra")
    second = re.search(r"one-time password for citra: (\S+)", again.output).group(1)
    user = User.get(User.username == "citra")
    assert verify_password(user.password_hash, second) and not verify_password(
        user.password_hash, first)
    assert user.must_change_password


def test_a_deactivated_user_keeps_no_session(rt, settings):
    run(settings, "user", "create", "joko", "--role", "agent")
    user = User.get(User.username == "joko")
    UserSession.create(user=user.id, token_hash="x" * 64, expires_at=user.created_at,
                       second_factor_done=True)
    assert run(settings, "user", "deactivate", "joko").exit_code == 0
    assert not User.get_by_id(user.id).is_active
    assert UserSession.get(UserSession.user == user.id).revoked_reason == "deactivated"


def test_mistakes_are_one_clear_line(rt, settings):
    result = run(settings, "user", "reset-password", "nobody")
    assert result.exit_code == 2
    assert result.output.strip() == "gembok: there is no user named nobody: see `gembok user list`"
    result = run(settings, "user", "create", "x", "--role", "agent", "--division", "Nope")
    assert "there is no division named Nope" in result.output
