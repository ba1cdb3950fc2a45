"""The per-address limit counts an IPv6 /64 as one address: whoever holds a /64 can
use 2^64 addresses, so counting each would be no limit at all."""

from __future__ import annotations

from dataclasses import replace

from tests.conftest import csrf_token


def recover(client, address: str, identifier: str) -> int:  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/recover")
    return client.post("/recover", data={"csrf_token": token, "identifier": identifier},
                       environ_base={"REMOTE_ADDR": address}).status_code


def test_addresses_of_one_ipv6_64_share_one_limit(settings, make_app):
    app = make_app(replace(settings, login_ip_limit="2 per minute"))
    client = app.test_client()
    statuses = [recover(client, f"2001:db8:7:9::{i:x}", f"00109909999{i}") for i in range(1, 4)]
    assert statuses == [303, 303, 429]
    # another /64 has its own count, and IPv4 stays per address
    assert recover(client, "2001:db8:7:a::1", "001099099995") == 303
    assert recover(client, "203.0.113.7", "001099099996") == 303
    assert recover(client, "203.0.113.8", "001099099997") == 303


def test_an_ipv4_mapped_address_counts_as_its_ipv4_address(settings, make_app):
    app = make_app(replace(settings, login_ip_limit="1 per minute"))
    client = app.test_client()
    assert recover(client, "203.0.113.9", "001099099991") == 303
    assert recover(client, "::ffff:203.0.113.9", "001099099992") == 429
