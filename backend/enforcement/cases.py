"""Cases and the ladder: post-licensing letter → collection invoice → legal letter → court claim.

Every transition happens in two halves that can each be repeated without effect:

1. **In the database, in one transaction**: the stage moves, the document is stored (one per
   kind and case: a unique key), the mail is queued (an idempotency key), the deadline is set,
   the timeline gets its entry and `pending_step` records that the chain still has to hear of it.
2. **On the chain**: `log_step` with the document's SHA-256, unless the escrow already shows the
   step (it is read first); then `pending_step` is cleared.

A job killed anywhere re-runs into a state it recognises: before 1 nothing happened; after 1 the
next run only finishes 2; during 2 the escrow's own step tells whether the log went through.
Mail leaves through the outbox (`mail.py`), which sends at most once.

Before every letter the marketplace is asked again whether the domain holds a licence: a case on
a licensed domain closes instead of sending anything.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import secrets
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from backend.db import Database
from backend.enforcement.documents import (
    Answer,
    DocumentContext,
    Evidence,
    MandateProof,
    Party,
    RegistrationProof,
    render_document,
)
from backend.enforcement.jurisdictions import Jurisdictions
from backend.enforcement.mail import Attachment, build_email, enqueue
from backend.enforcement.models import Case, CaseDocument, CaseMessage, OutboxMessage, TimelineEntry
from backend.enforcement.pricing import Claim
from backend.crawler.models import OwnDomain, WhitelistedDomain
from backend.crawler.urls import on_domain
from backend.errors import ChainUnavailable, Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unprocessable
from backend.marketplace.models import CasePayment, EscrowCase
from backend.marketplace.settlement import SettlementError, SettlementEscrow
from backend.marketplace.typed_data import domain_hash, normalise_domain
from backend.models import Registration, Verification

log = logging.getLogger(__name__)

LADDER = ("post_licensing_letter", "invoice", "legal_letter", "court_claim")
LEGAL_STAGES = ("legal_letter", "court_claim")
DOCUMENT_OF_STAGE = {"post_licensing_letter": "post_licensing_letter", "invoice": "invoice",
                     "legal_letter": "legal_letter", "court_claim": "court_file"}
SUBJECTS = {
    "en": {"post_licensing_letter": "Unlicensed use of your image: licence offer", "invoice": "Invoice",
           "legal_letter": "Legal notice", "court_claim": "Case file for the court claim"},
    "de": {"post_licensing_letter": "Nicht lizenzierte Bildnutzung: Angebot einer Nachlizenzierung", "invoice": "Rechnung",
           "legal_letter": "Anwaltliches Schreiben", "court_claim": "Verfahrensakte für die Klage"},
    "ja": {"post_licensing_letter": "画像の無許諾使用：事後ライセンスのご案内", "invoice": "請求書",
           "legal_letter": "権利者代理人からの通知書", "court_claim": "訴訟用事件記録"},
}
OPEN_STATUSES = ("active", "held", "paused")
# what a run of the job survives for one case and retries on the next: a refusal, or a chain
# node that does not answer (web3's HTTP errors are OSErrors)
CHAIN_FAILURES = (DomainError, SettlementError, OSError)


class CaseNotViable(Unprocessable):
    """The case cannot be opened; `details["failures"]` lists every check that failed."""

    code = "case_not_viable"


@dataclass(frozen=True)
class FoundCopy:
    """What a case copies from the crawler's hit(s), so that it stands alone."""

    hit_ids: tuple[int, ...]
    page_url: str
    image_url: str
    found_at: datetime
    warc_cid: str | None = None
    copy_cid: str | None = None  # the image as fetched, stored in IPFS with the crawler's evidence


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str
    address: str = ""


@dataclass
class Enforcement:
    """What the ladder needs, built from the settings (`Services.enforcement()`)."""

    database: Database
    jurisdictions: Jurisdictions
    escrow: SettlementEscrow
    case_manager: str  # the address holding CASE_MANAGER_ROLE on the escrow
    public_url: str
    stage_days: int
    read_content: Callable[[str], bytes | None]  # CID -> bytes (the IPFS store)
    is_licensed: Callable[[str, str], bool]  # (registration id, domain) -> a licence covers it now
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    # The chain's time (its newest block's timestamp), for what the contracts judge by it: a
    # registration's claim window, a mandate's or an offer's expiry. None: the clock above. A
    # local chain moved forward (`copytrack dev advance`) runs ahead of the wall clock.
    chain_clock: Callable[[], int] | None = None
    claim_window: int = 86_400
    min_verification_level: int = 0
    sender_domain: str = "copytrack.invalid"
    signing_key: str = ""  # signs the partner lawyers' links (the backend's secret key)
    operator_email: str = ""  # the operator hears of every case's news here (none if empty)

    def chain_now(self) -> int:
        """Now as the contracts see it (seconds)."""
        return self.chain_clock() if self.chain_clock is not None else int(self.clock().timestamp())


@dataclass(frozen=True)
class OpenedCase:
    case_id: int
    public_code: str
    secret: str  # shown once, printed on the letters; only its hash is kept


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _timeline(db: Session, case: Case, actor: str, event: str, at: datetime, **detail) -> None:
    db.add(TimelineEntry(case_id=case.id, actor=actor, event=event, at=at, detail=detail))


def allowed_domain(db: Session, owner: str, domain: str) -> str | None:
    """Why `owner` allows `domain` to show their images (whitelisted, or their own), or None."""
    if any(on_domain(domain, d) for d in db.scalars(select(WhitelistedDomain.domain).where(WhitelistedDomain.owner == owner))):
        return f"{domain} is on your whitelist: its copies are legal and never a case"
    if any(on_domain(domain, d) for d in db.scalars(select(OwnDomain.domain).where(OwnDomain.owner == owner))):
        return f"{domain} is one of your own domains (a portfolio you imported)"
    return None


def notify_owner(env: Enforcement, db: Session, case: Case, event: str, subject: str, body: str) -> None:
    """Case news for the rights-holder and the operator, through the outbox: at most once per
    event and address (the idempotency key names both). The rights-holder hears at the address
    given for the case, else at their account's confirmed address."""
    from backend.accounts import confirmed_email  # accounts queue their mail through this package

    owner = case.owner_email or confirmed_email(db, case.rights_holder)
    for to in dict.fromkeys(a for a in (owner, env.operator_email) if a):
        enqueue(db, key=f"case:{case.id}:notify:{event}:to:{to}", to=to, case_id=case.id,
                subject=f"Copytrack case {case.public_code} ({case.domain}): {subject}",
                body=f"{body}\n\nThe case: {env.public_url}/cases/{case.id}\n", sender_domain=env.sender_domain)


def viability_failures(env: Enforcement, db: Session, *, registration_id: str, rights_holder: str, domain: str,
                       country: str | None, recipient_email: str | None, still_online: bool) -> list[str]:
    """Every reason the case cannot be opened, each in words the rights-holder can act on."""
    failures = []
    registration = db.get(Registration, registration_id)
    now = env.clock()
    if registration is None:
        failures.append(f"registration {registration_id} is not final on-chain yet (the indexer has not seen it)")
    else:
        if registration.owner.lower() != rights_holder.lower():
            failures.append(f"registration {registration_id} belongs to {registration.owner}, not {rights_holder}")
        if registration.registered_at + env.claim_window > env.chain_now():
            failures.append("the registration is still in its claim window; a case can be opened after "
                            f"{datetime.fromtimestamp(registration.registered_at + env.claim_window, timezone.utc):%Y-%m-%d %H:%M} UTC")
    verification = db.get(Verification, rights_holder)
    level = verification.level if verification else 0
    if level < env.min_verification_level:
        failures.append(f"the owner's verification level is {level}; enforcement needs {env.min_verification_level}")
    if not env.escrow.has_mandate(int(registration_id, 16)):
        failures.append("no mandate from the owner is recorded on the settlement escrow; sign the mandate first")
    if env.jurisdictions.supported(country) is None:
        failures.append(f"the site's country {country or '(not found)'} is not among the supported jurisdictions")
    if not recipient_email:
        failures.append("no contact address was found (imprint, contact page, mailto, security.txt)")
    open_case = db.scalar(select(Case.id).where(Case.registration_id == registration_id, Case.domain == domain))
    if open_case is not None:
        failures.append(f"case {open_case} already exists for {domain} and this image")
    if not still_online:
        failures.append("the copy is no longer online, or what is there now is no copy of the image (re-fetched just now)")
    if env.is_licensed(registration_id, domain):
        failures.append(f"{domain} holds a licence for this image on the marketplace")
    allowed = allowed_domain(db, rights_holder, domain)
    if allowed:
        failures.append(allowed)
    return failures


def open_case(env: Enforcement, *, registration_id: str, rights_holder: str, copy: FoundCopy, recipient: Recipient,
              country: str | None, claim: Claim, mandate: dict, still_online: bool,
              owner_email: str | None = None) -> OpenedCase:
    """Opens the case (database, then escrow) and sends the post-licensing letter.

    `mandate` is the signed EIP-712 mandate as submitted (`typed_data` and `signature`);
    `owner_email` is where the rights-holder hears of the case (with the operator)."""
    domain = normalise_domain(copy.page_url)
    now = env.clock()
    with env.database.session() as db:
        failures = viability_failures(env, db, registration_id=registration_id, rights_holder=rights_holder,
                                      domain=domain, country=country, recipient_email=recipient.email,
                                      still_online=still_online)
        if failures:
            raise CaseNotViable("the case cannot be opened: " + "; ".join(failures), failures=failures)
        jurisdiction = env.jurisdictions[country]
        if claim.country != jurisdiction.country:
            raise InvalidInput(f"the claim was priced for {claim.country}, the site is in {jurisdiction.country}")
        secret = secrets.token_urlsafe(12)
        case = Case(
            reference="0x" + secrets.token_bytes(32).hex(), public_code="CT-" + secrets.token_hex(4).upper(),
            secret_hash=_hash_secret(secret), registration_id=registration_id, rights_holder=rights_holder,
            domain=domain, country=jurisdiction.country, language=jurisdiction.letter_language,
            hit_ids=list(copy.hit_ids), page_url=copy.page_url, image_url=copy.image_url, warc_cid=copy.warc_cid,
            copy_cid=copy.copy_cid, found_at=copy.found_at, recipient_name=recipient.name,
            recipient_email=recipient.email,
            recipient_address=recipient.address, owner_email=owner_email, claim=claim.as_dict(), mandate=mandate,
            stage="opened",
            status="active", pending_step="opened", commission_bps=jurisdiction.commission_bps,
        )
        db.add(case)
        db.flush()
        _timeline(db, case, rights_holder, "opened", now, claim=claim.as_dict(), country=case.country)
        notify_owner(env, db, case, "opened", "case opened",
                     f"A case was opened against {domain} for the copy at {copy.page_url}.\n"
                     f"Claim: {claim.total} ({claim.asset}), the least you accept {claim.minimum}; "
                     f"the post-licensing letter goes to {recipient.email}.")
        case_id = case.id
    try:
        _settle_chain(env, case_id)
        advance(env, case_id, "post_licensing_letter", actor=rights_holder, secret=secret)
    except (SettlementError, OSError) as error:
        raise ChainUnavailable(
            f"case {case.public_code} is recorded, but the escrow could not open it ({error}); the scheduler "
            "retries and then sends the first letter", case_id=case_id,
        ) from error
    return OpenedCase(case_id, case.public_code, secret)


def _context(env: Enforcement, db: Session, case: Case, kind: str, issued: datetime, **extra) -> DocumentContext:
    registration = db.get(Registration, case.registration_id)
    jurisdiction = env.jurisdictions[case.country]
    partner = jurisdiction.partner_for(case.language)
    first_letter = db.scalar(select(CaseDocument).where(CaseDocument.case_id == case.id,
                                                         CaseDocument.kind == "post_licensing_letter"))
    message = case.mandate["typed_data"]["message"]
    return DocumentContext(
        kind=kind, language=case.language, reference=case.public_code, issued=issued.date(),
        due=(issued + timedelta(days=env.stage_days)).date(),
        letter_date=first_letter.created_at.date() if first_letter else None,
        recipient=Party(case.recipient_name, case.recipient_email, case.recipient_address),
        rights_holder=Party(case.rights_holder, ""),
        registration=RegistrationProof(
            registration.id, registration.owner, registration.tx_hash, registration.registered_at, registration.cid,
            f"{env.public_url}/verify/{registration.id}", env.read_content(registration.cid),
        ),
        evidence=Evidence(case.page_url, case.image_url, _aware(case.found_at), case.warc_cid,
                          env.read_content(case.copy_cid) if case.copy_cid else None),
        domain=case.domain, claim=Claim.from_dict(case.claim),
        mandate=MandateProof(message["owner"], message["agent"], int(message["expiry"]), int(message["nonce"]),
                             case.mandate["signature"]),
        answer=Answer(f"{env.public_url}/respond", extra.pop("secret", "(as in our first letter)"), env.escrow.address,
                      env.escrow.w3.eth.chain_id),
        partner=Party(partner.name, partner.email, partner.address) if partner else None,
        **extra,
    )


def _case_archive(env: Enforcement, db: Session, case: Case) -> tuple[bytes, list[str]]:
    """The court file's archive: evidence, letters, mails and chain proofs, byte for byte the same
    for the same case (fixed timestamps, sorted names), so its SHA-256 can be recomputed."""
    files: dict[str, bytes] = {}
    if case.warc_cid:
        warc = env.read_content(case.warc_cid)
        if warc is not None:
            files["evidence/page.warc.gz"] = warc
    if case.copy_cid:
        found = env.read_content(case.copy_cid)
        if found is not None:
            files["evidence/copy_found"] = found
    registration = db.get(Registration, case.registration_id)
    registered = env.read_content(registration.cid)
    if registered is not None:
        files["evidence/registered_image"] = registered
    for document in db.scalars(select(CaseDocument).where(CaseDocument.case_id == case.id)):
        files[f"letters/{document.kind}.pdf"] = document.content
    for message in db.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id).order_by(OutboxMessage.id)):
        files[f"mails/{message.id:04d}-{message.status}.eml"] = build_email(message, "copytrack").as_bytes()
    proofs = {
        "registration": {"id": registration.id, "tx_hash": registration.tx_hash, "block_number": registration.block_number,
                         "registered_at": registration.registered_at, "cid": registration.cid},
        "case": {"reference": case.reference, "escrow": env.escrow.address, "mandate": case.mandate},
        "evidence": {"page_url": case.page_url, "image_url": case.image_url, "warc_cid": case.warc_cid,
                     "copy_cid": case.copy_cid, "found_at": _aware(case.found_at).isoformat(), "hit_ids": case.hit_ids},
        "timeline": [{"at": _aware(e.at).isoformat(), "actor": e.actor, "event": e.event, "detail": e.detail}
                     for e in db.scalars(select(TimelineEntry).where(TimelineEntry.case_id == case.id).order_by(TimelineEntry.id))],
    }
    files["chain/proofs.json"] = json.dumps(proofs, indent=2, sort_keys=True).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue(), sorted(files)


def _recipient_of(env: Enforcement, case: Case, stage: str) -> str:
    if stage == "court_claim":
        partner = env.jurisdictions[case.country].partner_for(case.language)
        return partner.email
    return case.recipient_email


def advance(env: Enforcement, case_id: int, stage: str, *, actor: str, secret: str | None = None) -> bool:
    """Moves the case to `stage` (the next rung) with its document and mail; returns False when
    the case is there already (a repeated run) or closed because a licence turned up."""
    if stage not in LADDER:
        raise InvalidInput(f"unknown stage {stage!r}; the ladder is {list(LADDER)}")
    now = env.clock()
    with env.database.session() as db:
        case = db.get(Case, case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        current = LADDER.index(case.stage) if case.stage in LADDER else -1
        if current >= LADDER.index(stage):
            return False
        if current + 1 != LADDER.index(stage):
            raise Conflict(f"case {case.public_code} is at {case.stage}; the next stage is {LADDER[current + 1]}, not {stage}")
        if case.status != "active":
            raise Conflict(f"case {case.public_code} is {case.status}; resume it before it moves on")
        if stage in LEGAL_STAGES and not env.jurisdictions[case.country].legal_stages:
            raise Conflict(f"the legal stages are not available in {case.country}; the case ends at the invoice")
        allowed = allowed_domain(db, case.rights_holder, case.domain)
        if allowed or env.is_licensed(case.registration_id, case.domain):
            case.status, case.deadline, case.pending_step = "closed", None, "closed"
            if allowed:
                _timeline(db, case, "owner", "closed_allowed", now, reason=allowed)
            else:
                _timeline(db, case, "marketplace", "closed_licensed", now, reason=f"{case.domain} holds a licence")
            closed = True
        else:
            closed = False
            kind = DOCUMENT_OF_STAGE[stage]
            extra = {"secret": secret} if secret else {}
            if secret:
                case.secret_hash = _hash_secret(secret)
            document_hash, attachments = None, []
            if stage == "court_claim":
                archive, contents = _case_archive(env, db, case)
                document_hash = hashlib.sha256(archive).hexdigest()
                db.add(CaseDocument(case_id=case.id, kind="case_archive", language=case.language,
                                    sha256=document_hash, content=archive))
                extra.update(archive_sha256=document_hash, archive_contents=tuple(contents), timeline=tuple(
                    (f"{_aware(e.at):%Y-%m-%d}", e.event) for e in case.timeline))
                attachments.append(Attachment(f"{case.public_code}-case-file.zip", "application/zip", archive))
            pdf = render_document(_context(env, db, case, kind, now, **extra))
            pdf_hash = hashlib.sha256(pdf).hexdigest()
            db.add(CaseDocument(case_id=case.id, kind=kind, language=case.language, sha256=pdf_hash, content=pdf))
            attachments.insert(0, Attachment(f"{case.public_code}-{kind}.pdf", "application/pdf", pdf))
            to = _recipient_of(env, case, stage)
            enqueue(db, key=f"case:{case.id}:{stage}:to:{to}", to=to, case_id=case.id,
                    subject=f"{SUBJECTS[case.language][stage]} ({case.public_code})",
                    body=f"{SUBJECTS[case.language][stage]}: {case.public_code}\n{env.public_url}/respond",
                    attachments=attachments, sender_domain=env.sender_domain)
            if stage in LEGAL_STAGES:
                _brief_partner(env, db, case, stage)
            case.stage, case.pending_step = stage, stage
            # the court claim is the lawyer's from here: no deadline moves it further
            case.deadline = None if stage == LADDER[-1] else now + timedelta(days=env.stage_days)
            _timeline(db, case, actor, stage, now, document=kind, sha256=document_hash or pdf_hash, to=to,
                      deadline=case.deadline.isoformat() if case.deadline else None)
            notify_owner(env, db, case, stage, f"{stage.replace('_', ' ')} sent",
                         f"The {stage.replace('_', ' ')} of case {case.public_code} went to {to}"
                         + (f"; it is due by {case.deadline:%Y-%m-%d}." if case.deadline else "."))
    _settle_chain(env, case_id)
    return not closed


def _brief_partner(env: Enforcement, db: Session, case: Case, stage: str) -> None:
    """The partner firm gets the case through a signed link, once per legal stage."""
    from backend.enforcement.lawyers import lawyer_link  # lawyers.py builds on this module

    partner = env.jurisdictions[case.country].partner_for(case.language)
    enqueue(db, key=f"case:{case.id}:{stage}:brief:{partner.email}", to=partner.email, case_id=case.id,
            subject=f"Copytrack case {case.public_code}: {stage.replace('_', ' ')} ({case.domain})",
            body=(f"The case {case.public_code} against {case.domain} reached the {stage.replace('_', ' ')} stage.\n"
                  f"Evidence, letters, the mandate and the conversation: {lawyer_link(env, case.id, partner.email)}\n"),
            sender_domain=env.sender_domain)


def notify_partner(env: Enforcement, db: Session, case: Case, message: CaseMessage) -> None:
    """Once a partner firm has the case (the legal stages), every message in the conversation from
    someone else reaches it by mail, with its signed link."""
    from backend.enforcement.lawyers import lawyer_link  # lawyers.py builds on this module

    if case.stage not in LEGAL_STAGES or message.author_role == "lawyer":
        return
    partner = env.jurisdictions[case.country].partner_for(case.language)
    db.flush()  # the message's id names the mail
    enqueue(db, key=f"case:{case.id}:message:{message.id}:to:{partner.email}", to=partner.email, case_id=case.id,
            subject=f"Copytrack case {case.public_code}: new message from the {message.author_role.replace('_', ' ')}",
            body=f"{message.body}\n\nThe case and the conversation: {lawyer_link(env, case.id, partner.email)}\n",
            sender_domain=env.sender_domain)


def _settle_chain(env: Enforcement, case_id: int) -> None:
    """Brings the escrow up to the case's `pending_step` (each call checks the escrow first)."""
    with env.database.session() as db:
        case = db.get(Case, case_id)
        step, reference = case.pending_step, bytes.fromhex(case.reference[2:])
        if step is None:
            return
        registration_id, rights_holder, total = case.registration_id, case.rights_holder, int(case.claim["total"])
        asset = case.claim["asset"]
        document = None
        if step in LADDER:
            kind = "case_archive" if step == "court_claim" else DOCUMENT_OF_STAGE[step]
            document = db.scalar(select(CaseDocument.sha256).where(CaseDocument.case_id == case.id, CaseDocument.kind == kind))
        target_commission = env.jurisdictions[case.country].legal_commission_bps
    try:
        on_chain = env.escrow.case(reference)
    except SettlementError:
        on_chain = None
    detail: dict = {"step": step}
    if step == "opened":
        if on_chain is None:
            env.escrow.open_case(reference=reference, registration_id=int(registration_id, 16), rights_holder=rights_holder,
                                 amount_due=total, case_manager=env.case_manager, asset=asset)
    else:
        order = ("opened", *LADDER, "settled", "closed")
        if order.index(on_chain.step) < order.index(step):
            env.escrow.log_step(reference, step, env.case_manager, bytes.fromhex(document) if document else b"\0" * 32)
            detail["document_sha256"] = document
        if step in LEGAL_STAGES:
            current = env.escrow.case(reference).commission_bps
            if target_commission > current:
                env.escrow.raise_commission(reference, target_commission, env.case_manager)
                detail["commission_bps"] = target_commission
    with env.database.session() as db:
        case = db.get(Case, case_id)
        if case.pending_step == step:
            case.pending_step = None
            if "commission_bps" in detail:
                case.commission_bps = detail["commission_bps"]
            _timeline(db, case, env.case_manager, "chain_logged", env.clock(), **detail)


def payment_views(db: Session, reference: str) -> list[dict]:
    """Each payment towards a case as the indexer recorded it, with its on-chain split."""
    payments = db.scalars(select(CasePayment).where(CasePayment.reference == reference)
                          .order_by(CasePayment.block_number, CasePayment.id))
    return [{"amount": p.amount, "commission": p.commission, "to_rights_holder": p.to_rights_holder,
             "outstanding": p.outstanding, "payer": p.payer, "tx_hash": p.tx_hash, "block_number": p.block_number}
            for p in payments]


def record_settlements(env: Enforcement) -> int:
    """Brings open cases up to the payments the chain indexer recorded from the escrow's events:
    each new payment goes into the timeline and the owner's mail, and a case the escrow shows
    settled is settled here. Each payment is known by what was outstanding after it (it only
    falls), so a re-run, or a reorg that replays the same events, adds nothing twice."""
    settled = 0
    now = env.clock()
    with env.database.session() as db:
        open_cases = db.scalars(select(Case).where(Case.status.in_(OPEN_STATUSES)).order_by(Case.id)).all()
        for case in open_cases:
            on_chain = db.get(EscrowCase, case.reference)
            if on_chain is None:
                continue  # not opened on the escrow yet, or the indexer has not seen it
            known = {e.detail.get("outstanding") for e in case.timeline if e.event == "paid"}
            for payment in payment_views(db, case.reference):
                if payment["outstanding"] in known:
                    continue
                _timeline(db, case, payment["payer"], "paid", now, **payment)
                notify_owner(env, db, case, f"paid:{payment['outstanding']}", "payment received",
                             f"{payment['payer']} paid {payment['amount']} ({case.claim['asset']}) towards case "
                             f"{case.public_code} in transaction {payment['tx_hash']}.\nYour share: "
                             f"{payment['to_rights_holder']}; commission: {payment['commission']}; "
                             f"still outstanding: {payment['outstanding']}.")
            if on_chain.step == "settled":
                case.status, case.deadline = "settled", None
                _timeline(db, case, "escrow", "settled", now, amount_paid=on_chain.amount_paid,
                          commission_bps=on_chain.commission_bps)
                notify_owner(env, db, case, "settled", "settled",
                             f"Case {case.public_code} against {case.domain} is paid in full ({on_chain.amount_paid}, "
                             f"commission {on_chain.commission_bps / 100:g}%). Your share is credited on the settlement "
                             "escrow; withdraw it from there.")
                settled += 1
    return settled


def escalate_due(env: Enforcement) -> dict[str, int]:
    """The scheduler's job: record settlements, finish owed chain logs, then move every active
    case whose deadline passed one rung up. Safe to kill and re-run at any point (see the module
    docstring)."""
    now = env.clock()
    counts = {"settled": record_settlements(env), "chain": 0, "escalated": 0, "ended": 0, "failed": 0}
    with env.database.session() as db:
        owed = db.scalars(select(Case.id).where(Case.pending_step.is_not(None)).order_by(Case.id)).all()
        # a case still at "opened" had its first letter interrupted (the escrow was unreachable)
        due = db.scalars(select(Case.id).where(
            Case.status == "active",
            or_(Case.stage == "opened", and_(Case.deadline.is_not(None), Case.deadline <= now)),
        ).order_by(Case.id)).all()
    for case_id in owed:
        try:
            _settle_chain(env, case_id)
            counts["chain"] += 1
        except CHAIN_FAILURES as error:
            counts["failed"] += 1
            log.warning("case %s: the chain log failed (%s); retried on the next run", case_id, error)
    for case_id in due:
        with env.database.session() as db:
            case = db.get(Case, case_id)
            if case.stage == LADDER[-1] or case.pending_step is not None:
                continue  # the lawyer's from here / its chain log is still owed
            next_stage = LADDER[LADDER.index(case.stage) + 1] if case.stage in LADDER else LADDER[0]
            if next_stage in LEGAL_STAGES and not env.jurisdictions[case.country].legal_stages:
                case.deadline = None
                _timeline(db, case, "scheduler", "ladder_ended", now,
                          reason=f"no legal stages in {case.country}; the owner decides (hold, close or takedown)")
                counts["ended"] += 1
                continue
        # the first letter prints a new secret: the one made at opening was never delivered
        secret = secrets.token_urlsafe(12) if next_stage == LADDER[0] else None
        try:
            if advance(env, case_id, next_stage, actor="scheduler", secret=secret):
                counts["escalated"] += 1
        except CHAIN_FAILURES as error:
            counts["failed"] += 1
            log.warning("case %s: escalation to %s failed (%s); retried on the next run", case_id, next_stage, error)
    return counts


def _may_act(env: Enforcement, case: Case, actor: str, operators: frozenset[str]) -> None:
    if actor.lower() != case.rights_holder.lower() and actor.lower() not in operators:
        raise Forbidden(f"only the rights-holder or an operator may act on case {case.public_code}")


def hold(env: Enforcement, case_id: int, actor: str, reason: str, operators: frozenset[str] = frozenset()) -> None:
    """Stops the clock at the current stage until `resume`."""
    with env.database.session() as db:
        case = db.get(Case, case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        _may_act(env, case, actor, operators)
        if case.status != "active":
            raise Conflict(f"case {case.public_code} is {case.status}, not active")
        case.status, case.deadline = "held", None
        _timeline(db, case, actor, "held", env.clock(), reason=reason)


def resume(env: Enforcement, case_id: int, actor: str, operators: frozenset[str] = frozenset()) -> None:
    """Restarts a held or paused case with a fresh deadline for its stage."""
    with env.database.session() as db:
        case = db.get(Case, case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        _may_act(env, case, actor, operators)
        if case.status not in ("held", "paused"):
            raise Conflict(f"case {case.public_code} is {case.status}; only held or paused cases resume")
        now = env.clock()
        case.status, case.deadline = "active", now + timedelta(days=env.stage_days)
        _timeline(db, case, actor, "resumed", now, deadline=case.deadline.isoformat())


def close(env: Enforcement, case_id: int, actor: str, reason: str, operators: frozenset[str] = frozenset()) -> None:
    """Closes the case for good (database first, then `log_step(closed)` on the escrow)."""
    with env.database.session() as db:
        case = db.get(Case, case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        _may_act(env, case, actor, operators)
        if case.status not in OPEN_STATUSES:
            raise Conflict(f"case {case.public_code} is already {case.status}")
        case.status, case.deadline, case.pending_step = "closed", None, "closed"
        _timeline(db, case, actor, "closed", env.clock(), reason=reason)
    _settle_chain(env, case_id)


def licensed_on_marketplace(market, registration_id: str, domain: str, at: int) -> bool:
    """Whether any licensee of the registration holds a licence covering `domain` at `at`
    (`is_licensed` with the domain's hash, per licensee the marketplace recorded)."""
    reg = int(registration_id, 16)
    hashed = domain_hash(domain)
    return any(market.is_licensed(reg, licensee, hashed, at) for licensee in {lic.licensee for lic in market.licences_of(reg)})
