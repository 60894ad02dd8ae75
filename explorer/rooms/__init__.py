"""Rooms: a lesson's question asked of a whole audience, answered anonymously from phones,
kept in a database (SQLite by default, PostgreSQL for several replicas: ``DATABASE_URL``)."""

from explorer.rooms.codes import normalize_code
from explorer.rooms.errors import NotHost, RoomError, RoomUnavailable, UnknownRoom, VoteRefused
from explorer.rooms.store import (
    FLOOD_VOTES,
    FLOOD_WINDOW_S,
    LIFETIME_S,
    MAX_CHOICES,
    MAX_VOTERS,
    MIN_CHOICES,
    Rooms,
    RoomState,
    rooms,
)

__all__ = ["FLOOD_VOTES", "FLOOD_WINDOW_S", "LIFETIME_S", "MAX_CHOICES", "MAX_VOTERS",
           "MIN_CHOICES", "NotHost", "RoomError", "RoomState", "RoomUnavailable", "Rooms",
           "UnknownRoom", "VoteRefused", "normalize_code", "rooms"]
