"""A member's language: what /language stores (``member.language``), read once per update by
handlers/identity.py."""

from __future__ import annotations

from sqlalchemy import Engine, update
from sqlmodel import col

from domain.access import Actor, NotAllowed
from models.db import session_scope
from models.tables import Member

LANGUAGES = ("vi", "en")


def set_language(engine: Engine, actor: Actor, language: str) -> str:
    """Store ``language`` for the member asking; NotAllowed for someone not (or no longer) a member."""
    if language not in LANGUAGES:
        raise ValueError(language)
    if not actor.is_member or actor.member_id is None:
        raise NotAllowed("inactive" if actor.deactivated else "not_member")
    with session_scope(engine) as session:
        session.execute(update(Member).where(col(Member.id) == actor.member_id, col(Member.active))
                        .values(language=language))
    return language
