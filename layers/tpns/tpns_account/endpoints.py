"""Regional TPNS hosts, chosen by name or given as a base URL."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from tpns_account import defaults
from tpns_account.errors import SettingsError

REGIONS: dict[str, str] = {
    "guangzhou": "https://api.tpns.tencent.com",
    "shanghai": "https://api.tpns.sh.tencent.com",
    "hongkong": "https://api.tpns.hk.tencent.com",
    "singapore": "https://api.tpns.sgp.tencent.com",
}


def resolve_endpoint(value: str | None) -> str:
    """Turn a region name or base URL into a base URL without a trailing slash.

    Plain ``http://`` is refused except on loopback (the emulator), so credentials and
    bindings never travel unencrypted.
    """
    text = (value or defaults.ENDPOINT).strip()
    region = REGIONS.get(text.lower())
    if region:
        return region
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SettingsError(
            f"TPNS endpoint must be a region ({', '.join(REGIONS)}) or an https:// base URL"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise SettingsError("TPNS endpoint must use https:// (http:// is allowed on loopback only)")
    return text.rstrip("/")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
