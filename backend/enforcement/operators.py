"""The platform operator's view: cases waiting for a person's review, the partner law firms per
country, and the rights-holders' verification levels. Operators are the addresses in the setting
`enforcement_operators`; to anyone else this view does not exist (NotFound, as for another
owner's thing)."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.enforcement.cases import Enforcement
from backend.enforcement.jurisdictions import Jurisdictions
from backend.enforcement.models import Case
from backend.enforcement.owner import summary
from backend.errors import InvalidInput, NotFound
from backend.models import Registration, Verification

REVIEW_STATUSES = ("held", "paused")
MAX_VERIFICATION_LEVEL = 2  # the register's "verified creator"


def require_operator(actor: str, operators: frozenset[str]) -> None:
    if actor.lower() not in operators:
        raise NotFound("there is no operator page for this account (only the addresses in the setting "
                       "enforcement_operators have one)")


def review_queue(env: Enforcement) -> list[dict]:
    """Held and paused cases, oldest first, each with the event that stopped its clock."""
    query = select(Case).where(Case.status.in_(REVIEW_STATUSES)).order_by(Case.id)
    with env.database.session() as db:
        queue = []
        for case in db.scalars(query):
            last = case.timeline[-1] if case.timeline else None
            why = {"at": last.at.isoformat(), "actor": last.actor, "event": last.event, "detail": last.detail} \
                if last is not None else None
            queue.append({**summary(case), "why": why})
        return queue


def partners_by_country(jurisdictions: Jurisdictions) -> list[dict]:
    """Every country that names a partner firm, with its terms, in the order of the country codes."""
    return [
        {"country": j.country, "name": j.name, "legal_stages": j.legal_stages, "letter_language": j.letter_language,
         "currency": j.currency, "commission_bps": j.commission_bps, "legal_commission_bps": j.legal_commission_bps,
         "partners": [{"key": p.key, "name": p.name, "email": p.email, "address": p.address,
                       "languages": list(p.languages)} for p in j.partners]}
        for j in sorted(jurisdictions.values(), key=lambda j: j.country) if j.partners
    ]


def verification_levels(env: Enforcement) -> list[dict]:
    """Every rights-holder the register knows (an owner of a registration, or a graded account)
    with their level and how many registrations they own, the most registrations first."""
    with env.database.session() as db:
        owned = dict(db.execute(select(Registration.owner, func.count()).group_by(Registration.owner)).all())
        levels = {v.address: v.level for v in db.scalars(select(Verification))}
    accounts = set(owned) | set(levels)
    rows = [{"address": a, "level": levels.get(a, 0), "registrations": owned.get(a, 0)} for a in accounts]
    return sorted(rows, key=lambda r: (-r["registrations"], r["address"].lower()))


def check_level(level) -> int:
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= MAX_VERIFICATION_LEVEL:
        raise InvalidInput(f"level must be 0 (not verified), 1 (identity checked) or 2 (verified creator), got {level!r}")
    return level
