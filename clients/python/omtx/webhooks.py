"""Verifying OMTX-Hub's completion webhooks.

Each webhook POST carries ``X-OMTX-Signature: t=<unix seconds>,v1=<hex>``,
where v1 is HMAC-SHA256 under the key's webhook secret of
``"<t>.<raw body>"``. Verify the raw bytes, before parsing the JSON.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-OMTX-Signature"
EVENT_HEADER = "X-OMTX-Event"
TOLERANCE_SECONDS = 300


class WebhookSignatureError(Exception):
    """The signature is malformed, too old or too new, or does not match."""


def sign(secret, body, timestamp):
    """Returns the header value the API sends for body at timestamp."""
    secret = secret.encode() if isinstance(secret, str) else secret
    ts = str(int(timestamp))
    mac = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def verify_signature(secret, header, body, now=None, tolerance=TOLERANCE_SECONDS):
    """Checks a webhook's signature header for its raw body under secret.

    Raises WebhookSignatureError unless the header is well formed, its
    timestamp is within tolerance seconds of now, and the MAC matches.
    """
    if isinstance(body, str):
        body = body.encode()
    ts, sig = None, None
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            ts = value
        elif key == "v1":
            sig = value
    try:
        seconds = int(ts)
    except (TypeError, ValueError):
        raise WebhookSignatureError("malformed signature header") from None
    if not sig:
        raise WebhookSignatureError("malformed signature header")
    now = time.time() if now is None else now
    if abs(now - seconds) > tolerance:
        raise WebhookSignatureError("signature timestamp outside the tolerance")
    want = sign(secret, body, seconds).split("v1=", 1)[1]
    if not hmac.compare_digest(want, sig):
        raise WebhookSignatureError("signature does not match")
