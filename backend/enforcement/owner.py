"""The rights-holder's and operator's side of enforcement: the mandate to sign, their cases, and
the actions and conversation on a case.

The API never holds the owner's key: it hands out the EIP-712 mandate (integers as decimal
strings, so a browser signs exactly what the contract verifies), checks the returned signature,
and relays it to the escrow from the case manager's account (the platform pays the gas).
"""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_typed_data
from sqlalchemy import select

from backend.enforcement.cases import Enforcement, notify_partner, payment_views
from backend.enforcement.models import Case, CaseMessage
from backend.errors import ChainRejected, Forbidden, InvalidInput, NotFound
from backend.marketplace.models import EscrowCase
from backend.marketplace.settlement import SettlementError
from backend.marketplace.typed_data import MANDATE_FIELDS
from backend.models import Registration

MAX_MANDATE_DAYS = 5 * 365
UINT_FIELDS = {f["name"] for f in MANDATE_FIELDS if f["type"].startswith("uint")}


def _as_json(typed: dict) -> dict:
    message = {k: str(v) if k in UINT_FIELDS else v for k, v in typed["message"].items()}
    return {**typed, "domain": {**typed["domain"], "chainId": str(typed["domain"]["chainId"])}, "message": message}


def _from_json(typed: dict) -> dict:
    try:
        message = {k: int(v) if k in UINT_FIELDS else v for k, v in typed["message"].items()}
        domain = {**typed["domain"], "chainId": int(typed["domain"]["chainId"])}
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise InvalidInput(f"typed_data is not the mandate this API handed out ({error})") from None
    return {**typed, "domain": domain, "message": message}


def mandate_request(env: Enforcement, owner: str, registration_id: str, days: int) -> dict:
    """The EIP-712 mandate for one of the owner's registrations, valid for `days`."""
    if not 1 <= days <= MAX_MANDATE_DAYS:
        raise InvalidInput(f"a mandate runs between 1 and {MAX_MANDATE_DAYS} days, got {days}")
    with env.database.session() as db:
        registration = db.get(Registration, registration_id)
        if registration is None:
            raise NotFound(f"registration {registration_id} is not final on-chain")
        if registration.owner.lower() != owner.lower():
            raise Forbidden(f"registration {registration_id} belongs to {registration.owner}")
    expiry = env.chain_now() + days * 86_400  # the escrow judges it by block time
    return _as_json(env.escrow.mandate_typed_data(owner, expiry, int(registration_id, 16)))


def submit_mandate(env: Enforcement, owner: str, typed_json: dict, signature: str) -> dict:
    """Checks that `owner` signed the mandate, then records it on the escrow; returns the mandate
    as cases keep it (`typed_data` and `signature`)."""
    typed = _from_json(typed_json)
    try:
        signer = Account.recover_message(encode_typed_data(full_message=typed), signature=signature)
    except Exception as error:  # eth-account raises several kinds for a malformed message or signature
        raise InvalidInput(f"the signature does not verify over this mandate ({error})") from None
    if signer.lower() != owner.lower() or typed["message"].get("owner", "").lower() != owner.lower():
        raise Forbidden("the mandate must be signed by the signed-in owner it names")
    try:
        env.escrow.submit_mandate(typed, bytes.fromhex(signature.removeprefix("0x")), sender=env.case_manager)
    except SettlementError as error:
        raise ChainRejected(str(error)) from None
    return {"typed_data": typed_json, "signature": signature}


def _visible(case: Case, actor: str, operators: frozenset[str]) -> bool:
    return actor.lower() == case.rights_holder.lower() or actor.lower() in operators


def list_cases(env: Enforcement, actor: str, operators: frozenset[str]) -> list[dict]:
    """The actor's cases (an operator's: all), newest first."""
    query = select(Case).order_by(Case.id.desc())
    if actor.lower() not in operators:
        query = query.where(Case.rights_holder == actor)
    with env.database.session() as db:
        return [summary(case) for case in db.scalars(query)]


def summary(case: Case) -> dict:
    return {
        "id": case.id, "reference": case.public_code, "registration_id": case.registration_id,
        "domain": case.domain, "country": case.country, "stage": case.stage, "status": case.status,
        "deadline": case.deadline.isoformat() if case.deadline else None, "claim": case.claim,
        "commission_bps": case.commission_bps, "hit_ids": case.hit_ids,
    }


def case_detail(env: Enforcement, case_id: int, actor: str, operators: frozenset[str]) -> dict:
    with env.database.session() as db:
        case = db.get(Case, case_id)
        if case is None or not _visible(case, actor, operators):
            raise NotFound(f"no case {case_id} of yours")
        messages = db.scalars(select(CaseMessage).where(CaseMessage.case_id == case.id).order_by(CaseMessage.id))
        # what the chain indexer recorded from the escrow's events (None until it saw the case open)
        on_chain = db.get(EscrowCase, case.reference)
        chain = None if on_chain is None else {
            "step": on_chain.step, "amount_due": on_chain.amount_due, "amount_paid": on_chain.amount_paid,
            "commission_bps": on_chain.commission_bps, "payments": payment_views(db, case.reference)}
        return {
            **summary(case),
            "evidence": {"page_url": case.page_url, "image_url": case.image_url, "warc_cid": case.warc_cid,
                         "found_at": case.found_at.isoformat()},
            "recipient": {"name": case.recipient_name, "email": case.recipient_email},
            "escrow": chain,
            "timeline": [{"at": e.at.isoformat(), "actor": e.actor, "event": e.event, "detail": e.detail}
                         for e in case.timeline],
            "documents": [{"kind": d.kind, "sha256": d.sha256, "language": d.language} for d in case.documents],
            "messages": [{"at": m.created_at.isoformat(), "role": m.author_role, "author": m.author, "body": m.body}
                         for m in messages],
        }


def post_message(env: Enforcement, case_id: int, actor: str, operators: frozenset[str], body: str) -> None:
    """A message in the case conversation from the rights-holder or an operator."""
    body = (body or "").strip()
    if not body:
        raise InvalidInput("the message is empty")
    with env.database.session() as db:
        case = db.get(Case, case_id)
        if case is None or not _visible(case, actor, operators):
            raise NotFound(f"no case {case_id} of yours")
        role = "rights_holder" if actor.lower() == case.rights_holder.lower() else "operator"
        message = CaseMessage(case_id=case.id, author_role=role, author=actor, body=body[:5000])
        db.add(message)
        notify_partner(env, db, case, message)
