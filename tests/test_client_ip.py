"""The client address behind proxies: spoofed chains, RFC 7239, IPv6 /64 (pure functions)."""

from __future__ import annotations

import pytest

from moderation.core.clientip import client_address, forwarded_chain, limit_key, parse_address, parse_networks

PROXIES = parse_networks("10.0.0.0/8, 127.0.0.1, 2001:db8:ffff::/48")
XFF = "X-Forwarded-For"


@pytest.mark.parametrize(("values", "expected"), [
    (["198.51.100.7"], "198.51.100.7"),                                   # one proxy, the real client
    (["1.2.3.4, 198.51.100.7"], "198.51.100.7"),                          # spoofed first hop ignored
    (["6.6.6.6, 7.7.7.7, 198.51.100.7, 10.1.2.3"], "198.51.100.7"),       # two proxies of ours
    (["1.2.3.4", "198.51.100.7"], "198.51.100.7"),                        # two header lines are one list
    (["10.0.0.5, 10.0.0.6"], "10.0.0.5"),                                 # every hop ours: the leftmost
    (["garbage, 198.51.100.7"], "198.51.100.7"),                          # garbage left of the client
    (["198.51.100.7, garbage"], "10.9.9.9"),                              # our proxy wrote garbage: its own address
    (["198.51.100.7:4711"], "198.51.100.7"),
    (["[2001:db8::1]:443"], "2001:db8::1"),
    (["::ffff:198.51.100.7"], "198.51.100.7"),
    ([], "10.9.9.9"),
])
def test_rightmost_untrusted_hop_is_the_client(values: list[str], expected: str) -> None:
    assert client_address("10.9.9.9", XFF, values, PROXIES) == expected


def test_a_direct_client_cannot_claim_an_address() -> None:
    assert client_address("203.0.113.9", XFF, ["1.2.3.4"], PROXIES) == "203.0.113.9"


def test_no_trusted_proxies_means_no_header_is_read() -> None:
    assert client_address("127.0.0.1", XFF, ["1.2.3.4"], ()) == "127.0.0.1"


def test_rotating_the_first_hop_never_changes_the_client() -> None:
    seen = {client_address("10.0.0.1", XFF, [f"{i}.{i}.{i}.{i}, 198.51.100.7"], PROXIES) for i in range(1, 200)}
    assert seen == {"198.51.100.7"}


@pytest.mark.parametrize(("value", "expected"), [
    ('for=198.51.100.7', "198.51.100.7"),
    ('for=1.2.3.4, for=198.51.100.7;proto=https', "198.51.100.7"),
    ('for="[2001:db8:cafe::17]:4711"', "2001:db8:cafe::17"),
    ('for=1.2.3.4;by=10.0.0.1, for="198.51.100.7:80"', "198.51.100.7"),
    ('For="1.2.3.4, 5.6.7.8", for=198.51.100.7', "198.51.100.7"),          # a comma inside quotes is one element
    ('for=198.51.100.7, for=unknown', "10.9.9.9"),                        # unknown written by our proxy
    ('for=198.51.100.7, proto=https', "10.9.9.9"),                        # an element without for=
    ('for=_hidden, for=198.51.100.7', "198.51.100.7"),
])
def test_forwarded_rfc7239(value: str, expected: str) -> None:
    assert client_address("10.9.9.9", "Forwarded", [value], PROXIES) == expected


def test_parse_address_refuses_garbage() -> None:
    for raw in ("", "unknown", "_hidden", "1.2.3", "[::1", "999.1.1.1", "a" * 300):
        assert parse_address(raw) is None
    assert forwarded_chain(XFF, ["1.1.1.1,,2.2.2.2"]) [1] is None


def test_ipv6_is_limited_per_64() -> None:
    a = limit_key("2001:db8:1:2:aaaa::1")
    assert a == limit_key("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert limit_key("2001:db8:1:3::1") != a
    assert limit_key("2001:db8:1:2::1", ipv6_prefix=48) == "2001:db8:1::/48"
    assert limit_key("2001:db8:1:2::1", ipv6_prefix=128) == "2001:db8:1:2::1"
    assert limit_key("198.51.100.7") == "198.51.100.7"
    assert limit_key("198.51.100.7", ipv4_prefix=24) == "198.51.100.0/24"
    assert limit_key("unknown") == "unknown"


def test_bad_trusted_proxies_name_the_entry() -> None:
    with pytest.raises(ValueError, match="not-a-net"):
        parse_networks("10.0.0.0/8, not-a-net")


def test_config_reads_trusted_proxies() -> None:
    from moderation.core.config import Config, ConfigError

    c = Config.from_env({"MODERATION_TRUSTED_PROXIES": "10.0.0.0/8,::1", "MODERATION_IPV6_PREFIX": "56"})
    assert c.trusted_proxy_header == "X-Forwarded-For" and len(c.trusted_proxies) == 2
    assert c.ipv6_limit_prefix == 56
    legacy = Config.from_env({"MODERATION_TRUSTED_PROXY_HEADER": "Forwarded"})
    assert legacy.trusted_proxy_header == "Forwarded" and legacy.trusted_proxies   # this host + private networks
    assert Config.from_env({}).trusted_proxies == ()
    with pytest.raises(ConfigError, match="MODERATION_TRUSTED_PROXIES"):
        Config.from_env({"MODERATION_TRUSTED_PROXIES": "10.0.0.0/8, nonsense"})
