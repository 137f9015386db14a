"""The real client address behind reverse proxies, and the network a per-address limit counts.

A proxy *appends* the address it received the request from to ``X-Forwarded-For`` (or adds a ``Forwarded``
element, RFC 7239), so only the right-hand end of the chain is written by machines we trust: everything to
the left of the first untrusted hop is whatever the client chose to send.  The client is therefore the
**rightmost address that is not one of our proxies** — never the leftmost, which a script sets freely.

Headers are read only when the TCP peer itself is a trusted proxy (``MODERATION_TRUSTED_PROXIES``); a client
that connects directly cannot claim any address.

Per-address limits count an IPv6 client by its /64 (configurable): one end-user allocation holds 2**64
addresses, so counting single addresses would give one attacker an unlimited supply.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

PRIVATE_AND_LOOPBACK: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
FORWARDED = "forwarded"

# one ``for=`` parameter of a Forwarded element: a token or a quoted string (RFC 7239 §4, §6)
_FOR = re.compile(r'(?:^|;)\s*for\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)', re.IGNORECASE)


def parse_networks(raw: str) -> tuple[IPNetwork, ...]:
    """``"10.0.0.0/8, 2001:db8::/32, 127.0.0.1"`` -> networks; ValueError naming the bad entry."""
    nets = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"not an IP network: {part!r}") from None
    return tuple(nets)


def parse_address(raw: str) -> IPAddress | None:
    """One hop as proxies write it: ``203.0.113.7``, ``203.0.113.7:4711``, ``[2001:db8::1]:4711``, ``2001:db8::1``,
    or quoted; None for ``unknown``, obfuscated identifiers (``_hidden``) and garbage."""
    s = raw.strip().strip('"').strip()
    if s.startswith("["):
        end = s.find("]")
        if end < 0:
            return None
        s = s[1:end]
    elif s.count(":") == 1:          # IPv4 with a port (a bare IPv6 address has at least two colons)
        s = s.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(s.split("%", 1)[0])   # drop an IPv6 zone id
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def forwarded_chain(header: str, values: Sequence[str]) -> list[IPAddress | None]:
    """The hops a header lists, left (first client) to right (nearest proxy).  Several header lines are one
    list in order (RFC 9110 §5.3).  An unparseable hop is None."""
    hops: list[IPAddress | None] = []
    for value in values:
        if header.lower() == FORWARDED:
            for element in _split_forwarded(value):
                m = _FOR.search(element)
                hops.append(parse_address(_unquote(m.group(1))) if m else None)
        else:
            hops.extend(parse_address(part) for part in value.split(","))
    return hops


def _split_forwarded(value: str) -> list[str]:
    """Split a Forwarded value into elements at commas outside quoted strings."""
    elements, current, quoted, escaped = [], [], False, False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            elements.append("".join(current))
            current = []
            continue
        current.append(ch)
    elements.append("".join(current))
    return [e for e in elements if e.strip()]


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] == '"':
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def _trusted(addr: IPAddress, proxies: Iterable[IPNetwork]) -> bool:
    return any(addr.version == net.version and addr in net for net in proxies)


def client_address(peer: str | None, header: str | None, values: Sequence[str],
                   proxies: Sequence[IPNetwork]) -> str:
    """The client's address: the TCP peer, unless the peer is a trusted proxy; then the rightmost hop of
    ``header`` that is not a trusted proxy.  An unparseable hop stops the walk at the proxy that wrote it
    (we cannot tell who is behind it, so the limit falls on that proxy's address — stricter, never looser)."""
    peer_addr = parse_address(peer) if peer else None
    if peer_addr is None:
        return peer or "unknown"
    if not header or not proxies or not _trusted(peer_addr, proxies):
        return str(peer_addr)
    current = peer_addr
    for hop in reversed(forwarded_chain(header, values)):
        if hop is None:
            return str(current)
        current = hop
        if not _trusted(hop, proxies):
            return str(hop)
    return str(current)    # every hop is one of ours: the leftmost is the best we know


def limit_key(address: str, *, ipv6_prefix: int = 64, ipv4_prefix: int = 32) -> str:
    """The unit a per-address limit counts: the address itself for IPv4 (by default), its /64 for IPv6."""
    addr = parse_address(address)
    if addr is None:
        return address
    prefix = ipv6_prefix if addr.version == 6 else ipv4_prefix
    if prefix >= addr.max_prefixlen:
        return str(addr)
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))
