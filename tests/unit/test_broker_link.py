"""With workers on other hosts, the broker is reached over the LAN: never in clear, and never
to a server whose certificate names someone else. (A real TLS Redis across two hosts is in
tests/deploy/test_two_hosts.py: the embedded Redis of the other tests has no TLS.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance import broker_link
from appliance.broker_link import BrokerConfigError, link_params

CA = Path("/etc/gembok/tls/links-ca.crt")


@pytest.mark.parametrize("url", ["unix://gembok:pw@/run/gembok-redis/redis.sock",
                                 "redis://gembok:pw@127.0.0.1:6379/0",
                                 "redis://localhost:6379", "redis://[::1]:6379/0"])
def test_a_broker_on_this_host_needs_no_tls(url):
    assert link_params(url, None) == {}


def test_a_remote_broker_in_clear_is_refused_with_what_to_set():
    with pytest.raises(BrokerConfigError) as refused:
        link_params("redis://gembok:s3cret-queue-pw@10.0.0.3:6380/0", CA)
    message = str(refused.value)
    assert "rediss://" in message and "redis.ca_file" in message and "'10.0.0.3'" in message
    assert "s3cret-queue-pw" not in message  # the refusal never prints the password


def test_a_remote_broker_over_tls_needs_the_ca_that_signed_it():
    with pytest.raises(BrokerConfigError, match=r"set redis\.ca_file"):
        link_params("rediss://gembok:pw@broker.office.lan:6380/0", None)


def test_a_remote_broker_over_tls_checks_the_certificate_and_the_name():
    assert link_params("rediss://gembok:pw@10.0.0.3:6380/0", CA) == {
        "ssl_ca_certs": str(CA), "ssl_cert_reqs": "required", "ssl_check_hostname": True}


def test_the_client_made_for_a_remote_broker_speaks_tls_to_it():
    pool = broker_link.connection_pool("rediss://gembok:pw@10.0.0.3:6380/0", CA,
                                       socket_timeout=2)
    kwargs = pool.connection_kwargs
    assert pool.connection_class.__name__ == "SSLConnection"
    assert (kwargs["ssl_ca_certs"], kwargs["ssl_cert_reqs"], kwargs["ssl_check_hostname"],
            kwargs["socket_timeout"]) == (str(CA), "required", True, 2)
