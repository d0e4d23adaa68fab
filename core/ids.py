"""Random, unguessable identifiers (never sequential)."""

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


def looks_like_id(value: str | None, max_len: int = 64) -> bool:
    """Cheap shape check before a lookup: URL-safe base64 characters only."""
    if not value or len(value) > max_len:
        return False
    return all(c.isascii() and (c.isalnum() or c in "-_") for c in value)
