"""Room codes a person can read off a projector and type on a phone, and host secrets.

A code is ``CODE_LENGTH`` characters from ``ALPHABET``: capital letters and digits without
the look-alikes 0/O and 1/I, drawn with ``secrets`` (32**6, about a billion codes, none
following from another). ``normalize_code`` takes what a person typed or pasted (lower case,
spaces, dashes, full-width characters, the whole link) and returns the code, or refuses with
one sentence.

A host secret is a random token given once to the session that made the room; the database
keeps only its SHA-256 (the token has 192 random bits, so a fast hash is enough), and a
secret is checked with ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

from explorer.rooms.errors import RoomError

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""32 symbols: digits and capitals without 0, O, 1 and I, which are read as each other."""
CODE_LENGTH = 6
MAX_TYPED_CHARS = 200
"""Longer text is refused before it is looked at (a pasted link fits easily)."""

_SEPARATORS = re.compile(r"[\s\-_.·]+")
_LINK = re.compile(r"[?&]room=([^&#]*)", re.IGNORECASE)


def new_code() -> str:
    """A fresh random code (the caller retries on the rare collision)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    """What a person typed (``"ab3-k7q"``, ``" AB3 K7Q "``, a link with ``?room=AB3K7Q``) ->
    the code ``"AB3K7Q"``; anything else -> ``RoomError`` with one sentence saying why."""
    if not isinstance(text, str):
        raise RoomError("Type the room's code, the six letters and digits on the screen.")
    if len(text) > MAX_TYPED_CHARS:
        raise RoomError(f"A room code has {CODE_LENGTH} letters and digits; "
                        f"that text has {len(text)} characters.")
    text = unicodedata.normalize("NFKC", text)  # a phone's full-width "ＡＢ３" is "AB3"
    link = _LINK.search(text)
    if link:
        text = link.group(1)
    code = _SEPARATORS.sub("", text).upper()
    if not code:
        raise RoomError("Type the room's code, the six letters and digits on the screen.")
    wrong = sorted({c for c in code if c not in ALPHABET})
    if wrong:
        shown = ", ".join(repr(c) for c in wrong[:4])
        look_alikes = " (codes never use 0, O, 1 or I)" if set(wrong) & set("0O1I") else ""
        raise RoomError(f"A room code has only letters and digits{look_alikes}; "
                        f"{shown} is not part of one.")
    if len(code) != CODE_LENGTH:
        raise RoomError(f"A room code has {CODE_LENGTH} letters and digits; "
                        f"{code} has {len(code)}.")
    return code


def new_secret() -> str:
    """A host secret: 192 random bits, URL-safe text."""
    return secrets.token_urlsafe(24)


def hash_secret(secret: str) -> str:
    """What the database keeps of a host secret."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def secret_matches(secret: object, stored_hash: str) -> bool:
    """Whether ``secret`` is the one whose hash is ``stored_hash`` (constant-time compare)."""
    if not isinstance(secret, str) or not secret or len(secret) > MAX_TYPED_CHARS:
        return False
    return hmac.compare_digest(hash_secret(secret), stored_hash)
