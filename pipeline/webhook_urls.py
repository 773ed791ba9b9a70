"""Which webhook URLs and addresses Herald may call (OWASP API7, SSRF).

https only unless http is allowed (embedded mode, tests); no credentials in
the URL; and every address the host resolves to must be public — not
loopback, private, link-local (cloud metadata lives there), multicast,
reserved or unspecified — unless private addresses are allowed (tests).
Resolution is I/O and belongs to the caller; these are the rules.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pipeline.errors import ValidationFailed

MAX_URL_CHARS = 2048
# Metadata services outside the link-local range (Alibaba, Oracle's older one).
_METADATA = {ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("192.0.0.192")}


class WebhookUrlRefused(ValidationFailed):
    code = "webhook_url_refused"
    title = "Webhook URL refused"


def check_url(url: str, allow_http: bool) -> str:
    """The URL's host when the URL itself is acceptable.

    Raises:
        WebhookUrlRefused: scheme, credentials, missing host, length.
    """
    if len(url) > MAX_URL_CHARS:
        raise WebhookUrlRefused(f"the URL is longer than {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — raises on a bad port
    except ValueError:
        raise WebhookUrlRefused("the URL cannot be parsed") from None
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        raise WebhookUrlRefused(f"the URL must use {' or '.join(schemes)}")
    if parts.username or parts.password:
        raise WebhookUrlRefused("the URL must not carry credentials")
    if not parts.hostname:
        raise WebhookUrlRefused("the URL has no host")
    return parts.hostname


def forbidden_address(address: str) -> bool:
    """True for an address a webhook must not reach."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip in _METADATA or ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified or not ip.is_global)


def check_addresses(host: str, addresses: list[str], allow_private: bool) -> None:
    """Raises: WebhookUrlRefused: the host resolves nowhere, or somewhere forbidden."""
    if not addresses:
        raise WebhookUrlRefused(f"{host} does not resolve")
    if allow_private:
        return
    bad = [a for a in addresses if forbidden_address(a)]
    if bad:
        raise WebhookUrlRefused(f"{host} resolves to a private or reserved address ({bad[0]})")
