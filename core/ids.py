"""Random, unguessable identifiers (never sequential)."""

import base64
import secrets

# 12 random bytes = 96 bits for ids that appear in links; 24 bytes for participant tokens,
# which act as the participant's only credential.
ID_BYTES = 12
TOKEN_BYTES = 24


def _token(nbytes: int) -> str:
    # A leading '-' reads as an option on the command line (`python -m core synthesize -abc`): draw again.
    while True:
        value = secrets.token_urlsafe(nbytes)
        if not value.startswith("-"):
            return value


def new_id() -> str:
    return _token(ID_BYTES)


def new_token() -> str:
    return _token(TOKEN_BYTES)


def new_ids(n: int, nbytes: int = ID_BYTES) -> list[str]:
    """`n` ids like new_id() (or tokens, with nbytes=TOKEN_BYTES), drawn in one call for bulk imports.

    The same alphabet and length as `secrets.token_urlsafe(nbytes)`; `nbytes` must be a multiple of 3 (no padding).
    """
    if nbytes % 3:
        raise ValueError("nbytes must be a multiple of 3")
    width = nbytes // 3 * 4
    text = base64.urlsafe_b64encode(secrets.token_bytes(nbytes * n)).decode("ascii")
    return [value if not value.startswith("-") else _token(nbytes)
            for value in (text[i:i + width] for i in range(0, len(text), width))]


def looks_like_id(value: str | None, max_len: int = 64) -> bool:
    """Cheap shape check before a lookup: URL-safe base64 characters only."""
    if not value or len(value) > max_len:
        return False
    return all(c.isascii() and (c.isalnum() or c in "-_") for c in value)
