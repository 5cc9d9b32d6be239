"""The letter recipient's side: no account and no wallet, only the case code and the secret
printed on the first letter.

The recipient sees the evidence, the registration proof, the mandate and the claim with its
calculation; uploads a licence they hold (the case pauses until the owner has looked at it),
disputes with a message (paused likewise), or pays into the settlement escrow with the
transaction this module builds: the API never holds a key, the recipient's wallet sends it.
Instalments are any amount up to what is outstanding.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone

from sqlalchemy import select

from backend.enforcement.cases import Enforcement, _timeline, notify_owner, notify_partner
from backend.enforcement.models import Case, CaseDocument, CaseMessage
from backend.errors import Conflict, InvalidInput, Unauthenticated
from backend.marketplace.models import EscrowCase
from backend.models import Registration

MAX_PROOF_BYTES = 10 * 1024 * 1024
MAX_MESSAGE_CHARS = 5000
WRONG = "the case reference or the secret is wrong (both are printed on the first letter)"


def _authenticated(db, code: str, secret: str | None) -> Case:
    case = db.scalar(select(Case).where(Case.public_code == (code or "").strip().upper()))
    # The same answer, and a hash comparison either way, whether the code exists or not.
    expected = case.secret_hash if case is not None else "0" * 64
    given = hashlib.sha256((secret or "").encode()).hexdigest()
    if not hmac.compare_digest(expected, given) or case is None:
        raise Unauthenticated(WRONG)
    return case


def _outstanding(db, case: Case) -> tuple[int, int]:
    """(outstanding, paid) as the chain indexer recorded the escrow's events; before it has seen
    the case open, the whole claim."""
    on_chain = db.get(EscrowCase, case.reference)
    if on_chain is None:
        return int(case.claim["total"]), 0
    return int(on_chain.amount_due) - int(on_chain.amount_paid), int(on_chain.amount_paid)


def payment_transaction(env: Enforcement, db, case: Case, amount: int) -> dict:
    """The unsigned transaction that pays `amount` towards the case (ETH as value)."""
    outstanding, _ = _outstanding(db, case)
    if not 0 < amount <= outstanding:
        raise InvalidInput(f"a payment must be above 0 and at most the {outstanding} outstanding, got {amount}",
                           outstanding=str(outstanding))
    reference = bytes.fromhex(case.reference[2:])
    data = env.escrow.contract.encode_abi("pay", args=[reference, amount])
    is_eth = int(case.claim["asset"], 16) == 0
    return {"to": env.escrow.address, "data": data, "value": str(amount if is_eth else 0),
            "chainId": str(env.escrow.w3.eth.chain_id), "asset": case.claim["asset"]}


def view(env: Enforcement, code: str, secret: str | None, amount: int | None = None) -> dict:
    """Everything the recipient may see, with the transaction to pay `amount` (default: all)."""
    with env.database.session() as db:
        case = _authenticated(db, code, secret)
        registration = db.get(Registration, case.registration_id)
        outstanding, paid = _outstanding(db, case)
        body = {
            "reference": case.public_code,
            "stage": case.stage,
            "status": case.status,
            "deadline": case.deadline.isoformat() if case.deadline else None,
            "evidence": {"page_url": case.page_url, "image_url": case.image_url, "warc_cid": case.warc_cid,
                         "found_at": case.found_at.isoformat()},
            "registration": {"id": registration.id, "owner": registration.owner, "tx_hash": registration.tx_hash,
                             "block_time": str(registration.registered_at), "cid": registration.cid,
                             "verify_url": f"{env.public_url}/verify/{registration.id}"},
            "mandate": case.mandate,
            "claim": case.claim,
            "paid": str(paid),
            "outstanding": str(outstanding),
            "documents": [{"kind": d.kind, "sha256": d.sha256} for d in case.documents],
        }
        if outstanding and case.status in ("active", "held", "paused"):
            body["payment"] = payment_transaction(env, db, case, amount or outstanding)
        return body


def _pause(db, case: Case, event: str, now: datetime, **detail) -> None:
    if case.status in ("settled", "closed"):
        raise Conflict(f"case {case.public_code} is {case.status}; nothing to answer any more")
    case.status, case.deadline = "paused", None
    _timeline(db, case, "recipient", event, now, **detail)


def submit_licence_proof(env: Enforcement, code: str, secret: str | None, filename: str, content: bytes,
                         note: str = "") -> str:
    """Stores the recipient's licence proof and pauses the case for the owner's review; returns its SHA-256."""
    if not content:
        raise InvalidInput("the licence proof is empty; attach the licence (PDF or image)")
    if len(content) > MAX_PROOF_BYTES:
        raise InvalidInput(f"the licence proof is larger than {MAX_PROOF_BYTES:,} bytes")
    digest = hashlib.sha256(content).hexdigest()
    now = datetime.now(timezone.utc)
    with env.database.session() as db:
        case = _authenticated(db, code, secret)
        kind = f"licence_proof:{digest[:16]}"
        if db.scalar(select(CaseDocument.id).where(CaseDocument.case_id == case.id, CaseDocument.kind == kind)) is None:
            db.add(CaseDocument(case_id=case.id, kind=kind, language=case.language, sha256=digest, content=content))
        if note:
            db.add(CaseMessage(case_id=case.id, author_role="recipient", author=case.recipient_email, body=note[:MAX_MESSAGE_CHARS]))
        _pause(db, case, "licence_proof", now, filename=filename[:200], sha256=digest)
        notify_owner(env, db, case, f"licence_proof:{digest[:16]}", "the recipient sent a licence proof",
                     f"The recipient of case {case.public_code} uploaded a licence proof ({filename[:200]}, SHA-256 "
                     f"{digest}). The case is paused until you review it: resume it, or close it if the licence holds."
                     + (f"\n\nTheir note: {note[:MAX_MESSAGE_CHARS]}" if note else ""))
    return digest


def dispute(env: Enforcement, code: str, secret: str | None, message: str) -> None:
    """The recipient contests the claim; the case pauses until the owner or operator answers."""
    message = (message or "").strip()
    if not message:
        raise InvalidInput("say why you dispute the claim (the message is empty)")
    if len(message) > MAX_MESSAGE_CHARS:
        raise InvalidInput(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
    now = datetime.now(timezone.utc)
    with env.database.session() as db:
        case = _authenticated(db, code, secret)
        entry = CaseMessage(case_id=case.id, author_role="recipient", author=case.recipient_email, body=message)
        db.add(entry)
        _pause(db, case, "disputed", now)
        notify_partner(env, db, case, entry)
        db.flush()  # the message's id names the mail
        notify_owner(env, db, case, f"dispute:{entry.id}", "the recipient disputes the claim",
                     f"The recipient of case {case.public_code} disputes the claim; the case is paused until you "
                     f"answer (resume or close it).\n\nTheir message:\n{message}")
