"""What a room refuses, as one plain sentence for the person who caused it (``str(error)``)."""

from __future__ import annotations


class RoomError(ValueError):
    """A room refused a request; ``str(error)`` is one sentence to show next to it."""


class UnknownRoom(RoomError):
    """No open room has this code (never made, mistyped, or expired)."""


class NotHost(RoomError):
    """The host secret is wrong or missing: only the session that made a room may steer it."""


class VoteRefused(RoomError):
    """A vote that does not count: after the reveal, out of range, a past question, a flood,
    or a full room."""


class RoomUnavailable(RoomError):
    """The database did not answer (down, restarting, too busy): try again in a moment."""
