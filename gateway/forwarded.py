"""Who the client is when a proxy stands in front of the hub.

X-Forwarded-For is believed only from the proxies named in HUB_TRUSTED_PROXIES (addresses
or networks, comma-separated; empty by default: nothing is believed). The header is read
from the right, the end the nearest proxy wrote: each trusted hop is skipped, and the first
address that is not a trusted proxy is the client. An entry that is not a well-formed address
stops the walk and the hop that passed it on counts as the client — so neither rotating the
header nor filling it with garbage gives anyone a fresh rate-limit bucket.

The server itself never rewrites the client address (uvicorn's proxy_headers is off in
`hub serve`): this one place decides it, for every server the app runs under.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

ENV = "HUB_TRUSTED_PROXIES"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def well_formed(text: str) -> str | None:
    """The address in canonical form, or None if `text` is not exactly an IP address."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        """`"10.0.0.0/8, 192.0.2.1, ::1"`; a bad entry raises at start, naming it."""
        networks = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"{ENV}: {part!r} is not an address or a network") from None
        return cls(tuple(networks))

    @classmethod
    def from_env(cls) -> TrustedProxies:
        return cls.parse(os.environ.get(ENV, ""))

    def __contains__(self, address: str) -> bool:
        canonical = well_formed(address)
        if canonical is None:
            return False
        ip = ipaddress.ip_address(canonical)
        return any(ip in network for network in self.networks)


def client_address(peer: str, forwarded_for: bytes | None, proxies: TrustedProxies) -> str:
    """The client's address: the peer itself unless the peer is a trusted proxy."""
    if not forwarded_for or not proxies.networks or peer not in proxies:
        return peer
    client = peer
    for hop in reversed(forwarded_for.decode("latin-1").split(",")):
        address = well_formed(hop)
        if address is None:
            break
        client = address
        if address not in proxies:
            break
    return client


class ForwardedFor:
    """Sets `scope["client"]` to the client's address (see the module's docstring)."""

    def __init__(self, app: ASGIApp, proxies: TrustedProxies | None = None) -> None:
        self.app = app
        self.proxies = TrustedProxies.from_env() if proxies is None else proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.proxies.networks:
            peer = scope.get("client") or ("", 0)
            # Every X-Forwarded-For line, in order, as one list (RFC 9110 field combining).
            lines = [v for k, v in scope["headers"] if k.lower() == b"x-forwarded-for"]
            address = client_address(peer[0], b",".join(lines), self.proxies)
            if address != peer[0]:
                scope = {**scope, "client": (address, 0)}
        await self.app(scope, receive, send)
