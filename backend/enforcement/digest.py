"""The digest of new hits: a rights-holder whose account has a confirmed e-mail address hears, at
most once per `hits_digest_interval`, of the copies of their images the crawler found since the
last digest and nobody has looked at yet, grouped by site and image, with a link to the hits inbox.

Each digest is one outbox mail whose key names the account and the end of the period it reports,
written in the same transaction that moves the account's `digest_until`: a crash either sends the
digest and moves on, or does neither (the outbox sends at most once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from backend.crawler.models import Hit
from backend.db import Database
from backend.enforcement.mail import enqueue
from backend.models import AccountEmail, Image

MAX_LINES = 20  # site and image pairs listed in one digest; the rest is counted


@dataclass(frozen=True)
class DigestSettings:
    public_url: str
    sender_domain: str
    interval: timedelta


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def send_hit_digests(database: Database, settings: DigestSettings, now: datetime | None = None) -> int:
    """Queue the digests that are due; returns how many were queued. Safe to run often and to kill."""
    now = now or datetime.now(timezone.utc)
    with database.session() as db:
        due = db.scalars(select(AccountEmail.address).where(
            AccountEmail.confirmed_at.is_not(None), AccountEmail.hits_digest.is_(True),
            AccountEmail.digest_until <= now - settings.interval)).all()
    queued = 0
    for address in due:
        with database.session() as db:
            account = db.get(AccountEmail, address)
            if account is None or not account.confirmed_at or not account.hits_digest:
                continue  # changed since the query
            since = _aware(account.digest_until)
            if now - since < settings.interval:
                continue  # another runner sent it meanwhile
            groups = db.execute(
                select(Hit.domain, Hit.registration_id, func.count(Hit.id), func.max(Image.title))
                .outerjoin(Image, (Image.sha256 == Hit.registration_id) & (Image.owner == Hit.owner))
                .where(Hit.owner == address, Hit.found_at > since, Hit.found_at <= now,
                       Hit.verdict.is_(None), Hit.status == "active")
                .group_by(Hit.domain, Hit.registration_id)
                .order_by(func.count(Hit.id).desc(), Hit.domain, Hit.registration_id)).all()
            if groups:
                enqueue(db, key=f"digest:{address}:{now.isoformat()}", to=account.email,
                        subject=_subject(groups), body=_body(groups, since, settings),
                        sender_domain=settings.sender_domain)
                queued += 1
            account.digest_until = now
    return queued


def _subject(groups) -> str:
    copies = sum(g[2] for g in groups)
    sites = len({g[0] for g in groups})
    return (f"Copytrack: {copies} new cop{'y' if copies == 1 else 'ies'} of your images on "
            f"{sites} site{'' if sites == 1 else 's'}")


def _body(groups, since: datetime, settings: DigestSettings) -> str:
    lines = [f"The crawler found these copies of your registered images since {since:%Y-%m-%d %H:%M} UTC:", ""]
    for domain, registration_id, count, title in groups[:MAX_LINES]:
        image = f"\"{title}\"" if title else f"registration {registration_id[:10]}…{registration_id[-4:]}"
        lines.append(f"- {domain}: {count} cop{'y' if count == 1 else 'ies'} of {image}")
    if len(groups) > MAX_LINES:
        rest = sum(g[2] for g in groups[MAX_LINES:])
        lines.append(f"- and {rest} more on other sites or of other images")
    lines += ["", "Look at them and say which are licensed, which are not, and which are no copy:",
              f"{settings.public_url}/hits", "",
              f"You get this mail because your account asked for it; turn it off on {settings.public_url}/account"]
    return "\n".join(lines) + "\n"
