"""The requester's IP: the peer's, or X-Forwarded-For's only behind a trusted proxy."""

from __future__ import annotations

import pytest

from gateway.client_ip import client_ip, trusted_networks

PROXIES = trusted_networks(["10.0.0.0/8", "127.0.0.1"])


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_ip("127.0.0.1", "203.0.113.7", ()) == "127.0.0.1"


def test_a_header_from_an_untrusted_peer_is_ignored() -> None:
    assert client_ip("198.51.100.1", "203.0.113.7", PROXIES) == "198.51.100.1"


def test_behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() -> None:
    # a client may prepend anything it likes; only what the proxies appended counts
    assert client_ip("127.0.0.1", "1.2.3.4, 203.0.113.7, 10.1.1.1", PROXIES) == "203.0.113.7"


def test_a_chain_of_trusted_proxies_only_gives_the_leftmost() -> None:
    assert client_ip("127.0.0.1", "10.2.2.2, 10.1.1.1", PROXIES) == "10.2.2.2"


def test_a_malformed_hop_stops_the_walk() -> None:
    assert client_ip("127.0.0.1", "203.0.113.7, garbage", PROXIES) == "127.0.0.1"


def test_ipv6_peers_and_no_peer() -> None:
    assert client_ip("::1", None, PROXIES) == "::1"
    assert client_ip(None, "203.0.113.7", PROXIES) is None


def test_bad_proxy_entries_are_refused() -> None:
    with pytest.raises(ValueError, match="not-an-ip"):
        trusted_networks(["not-an-ip"])
