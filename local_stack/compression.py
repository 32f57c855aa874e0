"""An API's ``MinimumCompressionSize``, applied to answers as API Gateway (REST) applies it.

API Gateway compresses an integration's answer when the API has a minimum compression size,
the answer's body has at least that many bytes, the answer has no ``Content-Encoding`` of its
own, and the request's highest-priority ``Accept-Encoding`` coding is one it supports (none
given, or ``*``, means no compression). It supports gzip, deflate and identity; the local
gateway does gzip only, so a client preferring deflate gets the answer uncompressed here.
"""

from __future__ import annotations

import gzip


def preferred_coding(accept_encoding: str | None) -> str | None:
    """The coding an ``Accept-Encoding`` value ranks first (highest q; the first on a tie)."""
    best: tuple[float, str] | None = None
    for entry in (accept_encoding or "").split(","):
        coding, *parameters = (part.strip().lower() for part in entry.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if coding and weight > 0 and (best is None or weight > best[0]):
            best = (weight, coding)
    return best[1] if best else None


def compress(
    headers: dict[str, str],
    payload: bytes,
    *,
    accept_encoding: str | None,
    minimum_size: int | None,
) -> tuple[dict[str, str], bytes]:
    """The answer as the client receives it: gzipped when API Gateway would compress it."""
    if (
        minimum_size is None
        or len(payload) < minimum_size
        or any(name.lower() == "content-encoding" for name in headers)
        or preferred_coding(accept_encoding) != "gzip"
    ):
        return headers, payload
    others = {name: value for name, value in headers.items() if name.lower() != "vary"}
    varies = [
        part.strip()
        for name, value in headers.items()
        if name.lower() == "vary"
        for part in value.split(",")
        if part.strip()
    ]
    if not any(part.lower() == "accept-encoding" for part in varies):
        varies.append("Accept-Encoding")
    compressed = {**others, "Content-Encoding": "gzip", "Vary": ", ".join(varies)}
    return compressed, gzip.compress(payload, mtime=0)
