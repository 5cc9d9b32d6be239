"""Takedown instead of a claim: a DMCA §512(c)(3) or EU DSA Art. 16 notice to the host's abuse
contact, tracked until a re-fetch shows the copy gone, re-sent once after the deadline, then
escalated to the owner.

Sending goes through the outbox with a key per notice and sending, so a re-run of the check
never sends the same reminder twice.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select

from backend.enforcement.cases import Enforcement, FoundCopy
from backend.enforcement.documents import DocumentContext, Evidence, Party, RegistrationProof, render_document
from backend.enforcement.mail import Attachment, enqueue
from backend.enforcement.models import TakedownNotice
from backend.errors import InvalidInput, NotFound
from backend.marketplace.typed_data import normalise_domain
from backend.models import Registration

LAWS = {"dmca": "dmca_notice", "dsa": "dsa_notice"}
SUBJECTS = {"dmca": "DMCA notice of claimed infringement", "dsa": "Notice of illegal content (DSA Article 16)"}
MAX_SENDS = 2

StillOnline = Callable[[str], bool]  # image URL -> the copy is still served there


def _notice_pdf(env: Enforcement, db, notice: TakedownNotice, complainant: Party, language: str, found_at: datetime,
                issued: datetime) -> bytes:
    registration = db.get(Registration, notice.registration_id)
    return render_document(DocumentContext(
        kind=LAWS[notice.law], language=language, reference=f"TD-{notice.id}", issued=issued.date(),
        recipient=Party(notice.provider, notice.sent_to), rights_holder=complainant,
        registration=RegistrationProof(registration.id, registration.owner, registration.tx_hash,
                                       registration.registered_at, registration.cid,
                                       f"{env.public_url}/verify/{registration.id}", env.read_content(registration.cid)),
        evidence=Evidence(notice.page_url, notice.image_url, found_at), domain=normalise_domain(notice.page_url),
    ))


def _send(env: Enforcement, db, notice: TakedownNotice, pdf: bytes) -> None:
    enqueue(db, key=f"takedown:{notice.id}:send:{notice.sends}", to=notice.sent_to,
            subject=f"{SUBJECTS[notice.law]} (TD-{notice.id})",
            body=f"{SUBJECTS[notice.law]}: {notice.page_url}\nThe notice is attached.",
            attachments=[Attachment(f"TD-{notice.id}-{notice.law}.pdf", "application/pdf", pdf)],
            sender_domain=env.sender_domain)


def send_takedown(env: Enforcement, *, law: str, registration_id: str, rights_holder: str, complainant: Party,
                  copy: FoundCopy, provider: str, abuse_contact: str, language: str = "en") -> int:
    """Files the notice and queues it for `abuse_contact`; returns the notice id."""
    if law not in LAWS:
        raise InvalidInput(f"unknown takedown law {law!r}; use one of {sorted(LAWS)}")
    if not complainant.email or not complainant.name:
        raise InvalidInput("a takedown notice names the complaining party: give a name and an e-mail address")
    now = env.clock()
    with env.database.session() as db:
        registration = db.get(Registration, registration_id)
        if registration is None:
            raise NotFound(f"registration {registration_id} is not final on-chain")
        if registration.owner.lower() != rights_holder.lower():
            raise InvalidInput(f"registration {registration_id} belongs to {registration.owner}, not {rights_holder}")
        notice = TakedownNotice(
            registration_id=registration_id, rights_holder=rights_holder, law=law, page_url=copy.page_url,
            image_url=copy.image_url, provider=normalise_domain(provider), sent_to=abuse_contact, status="sent",
            document_sha256="", deadline=now + timedelta(days=env.stage_days), sends=1, created_at=now,
        )
        db.add(notice)
        db.flush()
        pdf = _notice_pdf(env, db, notice, complainant, language, copy.found_at, now)
        notice.document_sha256 = hashlib.sha256(pdf).hexdigest()
        _send(env, db, notice, pdf)
        return notice.id


def check_takedowns(env: Enforcement, still_online: StillOnline, complainants: Callable[[str], Party],
                    language: str = "en") -> dict[str, int]:
    """Re-fetches every open notice's copy: gone → removed; still there after the deadline →
    re-sent once, then escalated (the owner decides: another channel, or a claim)."""
    now = env.clock()
    counts = {"removed": 0, "resent": 0, "escalated": 0}
    with env.database.session() as db:
        open_ids = db.scalars(select(TakedownNotice.id).where(TakedownNotice.status.in_(("sent", "resent")))).all()
    for notice_id in open_ids:
        with env.database.session() as db:
            notice = db.get(TakedownNotice, notice_id)
            notice.checked_at = now
            if not still_online(notice.image_url):
                notice.status = "removed"
                counts["removed"] += 1
            elif notice.deadline.replace(tzinfo=now.tzinfo) <= now:
                if notice.sends < MAX_SENDS:
                    notice.sends += 1
                    notice.status, notice.deadline = "resent", now + timedelta(days=env.stage_days)
                    pdf = _notice_pdf(env, db, notice, complainants(notice.rights_holder), language, notice.created_at, now)
                    _send(env, db, notice, pdf)
                    counts["resent"] += 1
                else:
                    notice.status = "escalated"
                    counts["escalated"] += 1
    return counts
