"""Random tokens: 256 bits from the OS, stored only as their SHA-256."""

import hashlib
import hmac
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def email_key(secret: str, email: str) -> str:
    """An email address as rate limits keep it: keyed with the app's secret, so
    no table holds the address, nor a plain hash anyone could try addresses on."""
    return sign(secret, f"email:{email}")


def mask(token: str) -> str:
    """A hex token XOR a fresh random pad, pad first: a new spelling per page.

    Compressed pages then carry no repeating secret for a BREACH-style guess.
    """
    raw = bytes.fromhex(token)
    pad = secrets.token_bytes(len(raw))
    return pad.hex() + bytes(a ^ b for a, b in zip(raw, pad, strict=True)).hex()


def unmask(masked: str) -> str | None:
    """The token inside a masked one; None for anything malformed."""
    try:
        both = bytes.fromhex(masked)
    except ValueError:
        return None
    if not both or len(both) % 2:
        return None
    half = len(both) // 2
    pad, hidden = both[:half], both[half:]
    return bytes(a ^ b for a, b in zip(hidden, pad, strict=True)).hex()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
