"""Keep every request on a configured site's own hosts, and off private addresses.

The check runs twice: on the URL (its host must be a configured site host) and on the socket
address each connection is about to reach, after DNS, so that a hostname resolving to a
private, loopback or link-local address is refused before any byte is sent.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from archive.capture.urls import BadURL, split_url, url_netloc
from archive.errors import RefusedURL

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 ranges that carry an IPv4 address in their last 32 bits, and reach it when connected to
IPV4_IN_LOW_BITS = [ipaddress.ip_network(n) for n in (
    "::/96",             # IPv4-compatible (deprecated), also :: and ::1
    "::ffff:0:0/96",     # IPv4-mapped
    "::ffff:0:0:0/96",   # IPv4-translated (SIIT)
    "64:ff9b::/96",      # NAT64, the well-known prefix
)]
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # local-use NAT64: the IPv4 may sit anywhere


def _ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_public(ip: IPAddress) -> bool:
    """Tell whether an address is globally routable (not private, loopback, link-local...).

    An IPv6 address that wraps an IPv4 one (mapped, NAT64, 6to4...) is as public as that IPv4.

    >>> is_public(ipaddress.ip_address("93.184.215.14"))
    True
    >>> internal = ("10.1.2.3", "127.0.0.2", "169.254.169.254", "::1", "fe80::1", "fec0::1",
    ...             "::ffff:10.0.0.1", "64:ff9b::10.0.0.1", "64:ff9b::7f00:1", "::10.0.0.1",
    ...             "::ffff:0:192.168.1.1", "2002:a9fe:a9fe::1", "64:ff9b:1::8.8.8.8",
    ...             "2001:0:4136:e378:8000:63bf:3fff:fdd2")
    >>> [a for a in internal if is_public(ipaddress.ip_address(a))]
    []
    >>> [is_public(ipaddress.ip_address(a)) for a in ("64:ff9b::8.8.8.8", "2002:808:808::1")]
    [True, True]
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.teredo is not None or ip in NAT64_LOCAL or ip.is_site_local:
            return False  # Teredo relays, local translators, site-local: never a public host
        wrapped = embedded_ipv4(ip)
        if wrapped is not None:
            return is_public(wrapped)
    return ip.is_global and not ip.is_multicast


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 address wraps (and reaches), or None.

    >>> embedded_ipv4(ipaddress.ip_address("64:ff9b::a00:1"))
    IPv4Address('10.0.0.1')
    >>> embedded_ipv4(ipaddress.ip_address("2002:c0a8:101::1"))
    IPv4Address('192.168.1.1')
    >>> embedded_ipv4(ipaddress.ip_address("2a00:1450::1")) is None
    True
    """
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in IPV4_IN_LOW_BITS):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


class AddressPolicy:
    """Which host[:port] values may be fetched, and which of them may sit on loopback."""

    def __init__(self, netlocs: Iterable[str]) -> None:
        self.netlocs = frozenset(netlocs)
        self.loopback_hosts = frozenset(
            n for n in self.netlocs if _is_loopback_name(urlsplit(f"//{n}").hostname or ""))

    def check_url(self, url: str) -> None:
        """Refuse a URL whose host is not a configured site host, or whose literal IP is not public.

        The host is read by the parser the HTTP client uses (urls.split_url): the host checked is
        the host connected to. URLs with a user name or a backslash in the host are refused.
        """
        if urlsplit(url).scheme not in ("http", "https"):
            raise RefusedURL("bad-scheme", url)
        try:
            parts = split_url(url)
        except BadURL as exc:
            raise RefusedURL(exc.reason, url) from None
        where = url_netloc(parts)
        if where not in self.netlocs:
            ip = _ip(parts.host or "")
            reason = "forbidden-address" if ip is not None and not is_public(ip) else "off-site"
            raise RefusedURL(reason, url)

    def check_address(self, host: str, port: int, address: str) -> None:
        """Refuse a resolved socket address unless public, or loopback for a loopback site."""
        ip = _ip(address)
        if ip is None:
            raise RefusedURL("forbidden-address", f"{host} resolved to {address!r}")
        if is_public(ip):
            return
        scheme_port = "" if port in (80, 443) else f":{port}"
        if ip.is_loopback and f"{host.lower()}{scheme_port}" in self.loopback_hosts:
            return
        raise RefusedURL("forbidden-address", f"{host} resolves to {address}")


def _is_loopback_name(host: str) -> bool:
    ip = _ip(host)
    return host.lower() == "localhost" if ip is None else ip.is_loopback


class _GuardedConnectionMixin:
    policy: AddressPolicy
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        try:
            infos = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        for *_, sockaddr in infos:
            self.policy.check_address(self.host, self.port, str(sockaddr[0]))
        family, kind, proto, _, sockaddr = infos[0]
        sock = socket.socket(family, kind, proto)
        try:
            for option in self.socket_options or ():
                sock.setsockopt(*option)
            if isinstance(self.timeout, int | float):
                sock.settimeout(self.timeout)
            if self.source_address:
                sock.bind(self.source_address)
            sock.connect(sockaddr)
        except TimeoutError as exc:
            sock.close()
            raise ConnectTimeoutError(self, f"connect to {self.host} timed out") from exc
        except OSError as exc:
            sock.close()
            raise NewConnectionError(self, f"cannot connect to {self.host}: {exc}") from exc  # type: ignore[arg-type]
        return sock


def guarded_adapter(policy: AddressPolicy) -> HTTPAdapter:
    """Return a requests adapter whose connections pass every address through `policy`."""

    class Conn(_GuardedConnectionMixin, HTTPConnection):
        pass

    class SConn(_GuardedConnectionMixin, HTTPSConnection):
        pass

    Conn.policy = SConn.policy = policy

    class Pool(HTTPConnectionPool):
        ConnectionCls = Conn

    class SPool(HTTPSConnectionPool):
        ConnectionCls = SConn

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": SPool}

    return Adapter(pool_connections=4, pool_maxsize=1, max_retries=0)
