"""An IT admin's configuration is read strictly: a mistake stops the start with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import ConfigError, load_settings

DATA = Path(__file__).parent.parent / "data" / "config"


def test_it_runs_on_defaults_with_the_data_dir_under_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings({})
    assert s.data_dir == tmp_path / "var"
    assert (s.web.port, s.webhook.port, s.simulator.port) == (8443, 8444, 8445)
    assert s.master_key_path == tmp_path / "var" / "master.key"
    assert s.timezone == "Asia/Jakarta" and s.region == "ID"


def test_it_reads_a_complete_config_file():
    s = load_settings({}, DATA / "good.toml")
    assert s.data_dir == Path("/var/lib/gembok")
    assert (s.web.host, s.web.port, s.web.workers) == ("0.0.0.0", 9443, 2)  # noqa: S104
    assert s.webhook.tls is False
    assert s.whatsapp.api_version == "v24.0"
    assert s.log_level == "warning"


def test_environment_variables_override_the_file():
    s = load_settings({"GEMBOK_WEB_PORT": "10443", "GEMBOK_WEBHOOK_TLS": "true"},
                      DATA / "good.toml")
    assert s.web.port == 10443 and s.webhook.tls is True


def test_the_config_file_can_come_from_gembok_config():
    s = load_settings({"GEMBOK_CONFIG": str(DATA / "good.toml")})
    assert s.web.port == 9443


def test_under_systemd_the_master_key_comes_from_the_credentials_directory(tmp_path):
    s = load_settings({"CREDENTIALS_DIRECTORY": str(tmp_path / "creds")})
    assert s.master_key_path == tmp_path / "creds" / "master.key"


@pytest.mark.parametrize(("name", "expected"), [
    ("bad_port.toml", "setting web.port = 99999 (from {path}:4) is not valid: "
                      "expected a TCP port from 1 to 65535"),
    ("bad_typo.toml", "unknown setting web.prot in {path}:2"),
    ("bad_type.toml", "setting webhook.tls = 'yes' (from {path}:4) is not valid: "
                      "expected true or false"),
    ("bad_timezone.toml", "setting timezone = 'Jakarta' (from {path}:1) is not valid: "
                          "expected an IANA time zone such as Asia/Jakarta"),
    ("bad_syntax.toml", "config file {path} is not valid TOML"),
])
def test_a_bad_file_names_the_key_the_line_and_what_is_allowed(name, expected):
    path = DATA / name
    with pytest.raises(ConfigError) as caught:
        load_settings({}, path)
    message = str(caught.value)
    assert expected.format(path=path) in message
    assert "\n" not in message


@pytest.mark.parametrize(("env", "expected"), [
    ({"GEMBOK_WEB_PORT": "eighty"}, "setting web.port = 'eighty' (from environment variable "
                                    "GEMBOK_WEB_PORT) is not valid: expected a whole number"),
    ({"GEMBOK_WEB_PORT": "0"}, "expected a TCP port from 1 to 65535"),
    ({"GEMBOK_WEB_HOST": "lan"}, "expected an IP address"),
    ({"GEMBOK_LOG_LEVEL": "loud"}, "expected one of debug, info, warning, error"),
    ({"GEMBOK_WHATSAPP_API_VERSION": "25"}, "expected a Graph API version such as v25.0"),
    ({"GEMBOK_REDIS_URL": "localhost:6379"}, "unix://, redis:// or rediss:// URL"),
    ({"GEMBOK_WEB_PROT": "1"}, "unknown environment variable GEMBOK_WEB_PROT"),
    ({"GEMBOK_DATA_DIR": "  "}, "expected a file or directory path"),
    ({"GEMBOK_WEB_SOCKET": "/run/gembok/" + "w" * 100 + ".sock"},
     "expected the path of a unix socket, at most 107 bytes long"),
    ({"GEMBOK_WEBHOOK_BEHIND_PROXY": "nginx"}, "setting webhook.behind_proxy = 'nginx' (from "
                                               "environment variable GEMBOK_WEBHOOK_BEHIND_PROXY)"
                                               " is not valid: expected true or false"),
])
def test_a_bad_variable_names_itself_and_what_is_allowed(env, expected):
    with pytest.raises(ConfigError, match=None) as caught:
        load_settings(env)
    assert expected in str(caught.value)


def test_a_missing_config_file_says_which_path(tmp_path):
    with pytest.raises(ConfigError, match=r"cannot read config file .*nope\.toml"):
        load_settings({"GEMBOK_CONFIG": str(tmp_path / "nope.toml")})


def test_a_secret_in_the_config_file_is_refused_with_where_to_put_it(tmp_path):
    path = tmp_path / "gembok.toml"
    path.write_text('[whatsapp]\nphone_number_id = "1065"\naccess_token = "EAAG-secret"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings({}, path)
    assert f"whatsapp.access_token in {path}:3 is a secret" in str(caught.value)
    assert "gembok whatsapp configure" in str(caught.value)
    assert "EAAG" not in str(caught.value)


def test_secrets_never_show_in_the_settings_repr():
    s = load_settings({"GEMBOK_WHATSAPP_APP_SECRET": "shh-app-secret"})
    assert s.whatsapp.app_secret == "shh-app-secret"
    assert "shh-app-secret" not in repr(s)


def test_the_quick_start_binds_tcp_and_believes_no_forwarded_header():
    s = load_settings({})
    assert (s.web.socket, s.web.behind_proxy) == (None, False)
    assert (s.webhook.socket, s.webhook.behind_proxy) == (None, False)


def test_behind_the_front_each_face_binds_a_unix_socket(tmp_path):
    path = tmp_path / "gembok.toml"
    path.write_text('[web]\nsocket = "/run/gembok/web.sock"\nbehind_proxy = true\n'
                    '[webhook]\nsocket = "/run/gembok/webhook.sock"\nbehind_proxy = true\n')
    s = load_settings({}, path)
    assert s.web.socket == Path("/run/gembok/web.sock") and s.web.behind_proxy is True
    assert s.webhook.socket == Path("/run/gembok/webhook.sock") and s.webhook.behind_proxy
