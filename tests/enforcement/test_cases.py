"""Cases on a real anvil chain and a real SMTP server: the ladder, holds, licences, viability."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from pypdf import PdfReader
from sqlalchemy import select

from backend.enforcement.cases import (
    CaseNotViable,
    FoundCopy,
    Recipient,
    close,
    escalate_due,
    hold,
    open_case,
    resume,
)
from backend.enforcement.contacts import discover_contacts
from backend.enforcement.country import detect_country
from backend.enforcement.mail import deliver_due
from backend.enforcement.models import Case, CaseDocument, OutboxMessage, TimelineEntry
from backend.enforcement.pricing import LicencePrice, price_claim
from backend.errors import ChainUnavailable, Forbidden
from backend.marketplace import ETH, LicenseMarket, domain_hash
from tests.enforcement.ladder import open_test_case, register_with_mandate
from tests.enforcement.sites import Site, fetch
from tests.images import encode, picture

HTML = "text/html; charset=utf-8"


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace("\n", " ")


def attachments(mail) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in mail.iter_attachments()}


def later(setup, days: int) -> None:
    setup.now[0] += timedelta(days=days)


@pytest.mark.postgres
def test_ladder__from_letter_to_court_claim_then_paid_on_chain(services, chain, smtp):
    setup = register_with_mandate(services, chain)
    env, smtp_settings = setup.env, smtp.settings()
    copy = encode(picture(61, (320, 240)).resize((200, 150)), "JPEG")  # the registered picture, resized
    pages = {
        "/": (HTML, '<a href="/impressum">Impressum</a>'),
        "/impressum": (HTML, "<p>Beispiel GmbH</p><p>Musterstraße 1, 10115 Berlin, Deutschland</p>"
                             "<p>recht@beispiel.test</p>"),
        "/img/alps.png": ("image/jpeg", copy),
    }
    with Site(pages) as site:  # the infringer's site, as the crawler found it
        contacts = discover_contacts(site.origin, fetch)
        country = detect_country(site.origin, contacts.imprint_text)
        still_online = fetch(f"{site.origin}/img/alps.png") is not None
        opened = open_test_case(setup, origin=site.origin, country=country.country, still_online=still_online,
                                copy_cid=services.store.add(copy),
                                recipient=Recipient("Beispiel GmbH", contacts.best_email, "Musterstraße 1, Berlin"))
    with services.db.session() as db:
        reference = bytes.fromhex(db.get(Case, opened.case_id).reference[2:])
    escrow_case = env.escrow.case(reference)
    assert (escrow_case.step, escrow_case.amount_due, escrow_case.commission_bps) == ("post_licensing_letter", 15 * 10**16, 3000)

    assert deliver_due(services.db, smtp_settings) == 1
    [letter] = smtp.mailbox.received
    assert letter["To"] == "recht@beispiel.test" and opened.public_code in letter["Subject"]
    pdf = attachments(letter)[f"{opened.public_code}-post_licensing_letter.pdf"]
    text = pdf_text(pdf)
    assert sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages) == 2  # registered image and copy
    assert opened.secret in text and opened.public_code in text and "Nachlizenzierung" in text  # German: a .de site

    assert escalate_due(env)["escalated"] == 0  # the deadline has not passed
    for stage, days in (("invoice", 15), ("legal_letter", 15), ("court_claim", 15)):
        later(setup, days)
        assert escalate_due(env)["escalated"] == 1, stage
        assert escalate_due(env)["escalated"] == 0  # a second run the same day does nothing
        with services.db.session() as db:
            case = db.get(Case, opened.case_id)
            assert (case.stage, case.pending_step) == (stage, None)
        assert env.escrow.case(reference).step == stage
    assert deliver_due(services.db, smtp_settings) == 5
    invoice, legal, legal_brief, court, court_brief = smtp.mailbox.received[1:]
    assert legal_brief["To"] == court_brief["To"] == "kanzlei@example.org"
    assert "/lawyer#" in legal_brief.get_content() and not list(legal_brief.iter_attachments())
    assert "Rechnung" in pdf_text(attachments(invoice)[f"{opened.public_code}-invoice.pdf"])
    assert "Demo-Kanzlei" in pdf_text(attachments(legal)[f"{opened.public_code}-legal_letter.pdf"])
    assert court["To"] == "kanzlei@example.org"  # the court file goes to the partner lawyer
    archive = attachments(court)[f"{opened.public_code}-case-file.zip"]
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        names = zipped.namelist()
    assert {"chain/proofs.json", "evidence/registered_image", "evidence/copy_found", "letters/post_licensing_letter.pdf",
            "letters/invoice.pdf", "letters/legal_letter.pdf"} <= set(names)
    assert any(name.startswith("mails/") for name in names)
    with services.db.session() as db:
        logged = db.scalars(select(TimelineEntry).where(TimelineEntry.case_id == opened.case_id,
                                                        TimelineEntry.event == "chain_logged")).all()
        stored_archive = db.scalar(select(CaseDocument).where(CaseDocument.kind == "case_archive"))
    assert hashlib.sha256(archive).hexdigest() == stored_archive.sha256 == logged[-1].detail["document_sha256"]
    assert hashlib.sha256(archive).hexdigest() in pdf_text(attachments(court)[f"{opened.public_code}-court_file.pdf"])
    assert env.escrow.case(reference).commission_bps == 5000  # raised at the legal letter, as Germany's terms allow

    payer = chain.w3.eth.accounts[3]
    env.escrow.pay(reference, 5 * 10**16, payer)  # instalments
    services.indexer().poll()  # the payments reach the ladder through the chain indexer
    assert escalate_due(env)["settled"] == 0  # an instalment does not settle
    assert env.escrow.pay(reference, 10 * 10**16, payer).step == "settled"
    assert escalate_due(env)["settled"] == 0  # not before the indexer has seen it
    services.indexer().poll()
    assert escalate_due(env)["settled"] == 1
    assert escalate_due(env)["settled"] == 0
    with services.db.session() as db:
        case = db.get(Case, opened.case_id)
        assert case.status == "settled" and case.timeline[-1].detail["amount_paid"] == str(15 * 10**16)


def test_hold__stops_the_clock_and_close_logs_on_chain(services, chain, smtp):
    setup = register_with_mandate(services, chain, seed=62)
    opened = open_test_case(setup)
    with pytest.raises(Forbidden):
        hold(setup.env, opened.case_id, "0x" + "99" * 20, "not mine")
    hold(setup.env, opened.case_id, setup.owner.address, "talking to them")
    later(setup, 30)
    assert escalate_due(setup.env)["escalated"] == 0
    resume(setup.env, opened.case_id, setup.owner.address)
    close(setup.env, opened.case_id, setup.owner.address, "settled privately")
    with services.db.session() as db:
        case = db.get(Case, opened.case_id)
        events = [e.event for e in case.timeline]
    assert case.status == "closed" and case.stage == "post_licensing_letter"
    assert events[-2:] == ["closed", "chain_logged"] and "held" in events and "resumed" in events
    assert setup.env.escrow.case(bytes.fromhex(case.reference[2:])).step == "closed"


def test_licence_found_before_a_letter__closes_the_case_and_sends_nothing(services, chain, smtp):
    setup = register_with_mandate(services, chain, seed=63)
    opened = open_test_case(setup)
    setup.env.is_licensed = lambda registration_id, domain: domain == "shop.beispiel.de"
    later(setup, 15)
    escalate_due(setup.env)
    with services.db.session() as db:
        case = db.get(Case, opened.case_id)
        mails = db.scalars(select(OutboxMessage)).all()
    assert (case.status, case.stage) == ("closed", "post_licensing_letter")
    assert [m.idempotency_key.split(":")[2] for m in mails] == ["post_licensing_letter"]  # no invoice
    with pytest.raises(CaseNotViable) as refused:
        open_test_case(setup, origin="https://shop.beispiel.de")
    assert any("holds a licence" in failure for failure in refused.value.details["failures"])


def test_open_case__says_every_check_that_failed(services, chain):
    setup = register_with_mandate(services, chain, seed=64)
    setup.env.min_verification_level = 1
    with pytest.raises(CaseNotViable) as refused:
        open_test_case(setup, origin="https://startup.io", country=None, still_online=False,
                       recipient=Recipient("X", ""))
    failures = " | ".join(refused.value.details["failures"])
    assert "country (not found) is not among the supported" in failures
    assert "no contact address was found" in failures
    assert "no longer online" in failures
    assert "verification level is 0; enforcement needs 1" in failures
    with services.db.session() as db:
        assert db.scalars(select(Case)).all() == []  # nothing half-written


def test_claim_window__judged_by_the_chains_time_not_the_wall_clock(services, chain):
    """A local chain moved forward (`copytrack dev advance`) runs ahead of the wall clock: the
    claim window is the register's rule, so it is over when the chain says so."""
    from backend.enforcement.cases import viability_failures
    from tests.enforcement.ladder import register_image

    owner, registration_id = register_image(services, chain, seed=66)  # the chain moved past the window
    chain.w3.provider.make_request("evm_increaseTime", [5 * 86_400])
    chain.mine()  # and five days further: well ahead of this machine's clock
    env = services.enforcement()  # the wall clock, and the chain's clock from the node

    def claim_window_refused() -> bool:
        with services.db.session() as db:
            return any("claim window" in f for f in viability_failures(
                env, db, registration_id=registration_id, rights_holder=owner.address, domain="shop.example",
                country="DE", recipient_email="recht@beispiel.test", still_online=True))

    assert env.chain_now() > datetime.now(timezone.utc).timestamp() + 4 * 86_400
    assert not claim_window_refused()
    env.chain_clock = None  # judged by the wall clock, as before: refused although the register allows it
    assert claim_window_refused()


def test_ladder__stops_at_the_invoice_where_no_legal_stages_exist(services, chain):
    setup = register_with_mandate(services, chain, seed=65)
    opened = open_test_case(setup, origin="https://example.af", country="AF", factor="1")
    for _ in range(3):
        later(setup, 15)
        escalate_due(setup.env)
    with services.db.session() as db:
        case = db.get(Case, opened.case_id)
        events = [e.event for e in case.timeline]
    assert case.stage == "invoice" and case.deadline is None and "ladder_ended" in events


def test_open_case__escrow_refuses__case_kept_and_first_letter_sent_once_it_opens(services, chain):
    setup = register_with_mandate(services, chain, seed=66)
    manager = setup.env.case_manager
    setup.env.case_manager = chain.w3.eth.accounts[5]  # holds no case manager role: the escrow refuses
    with pytest.raises(ChainUnavailable) as refused:
        open_test_case(setup)
    assert "the scheduler retries" in refused.value.message
    with services.db.session() as db:
        [case] = db.scalars(select(Case)).all()
        assert (case.stage, case.pending_step) == ("opened", "opened")
        assert db.scalars(select(OutboxMessage)).all() == []
    assert escalate_due(setup.env)["failed"] == 1  # still refused: nothing sent
    setup.env.case_manager = manager
    assert escalate_due(setup.env)["escalated"] == 1
    assert escalate_due(setup.env)["escalated"] == 0
    with services.db.session() as db:
        case = db.get(Case, case.id)
        [letter] = db.scalars(select(OutboxMessage)).all()
    assert case.stage == "post_licensing_letter" and case.pending_step is None
    assert setup.env.escrow.case(bytes.fromhex(case.reference[2:])).step == "post_licensing_letter"
    assert letter.idempotency_key.startswith(f"case:{case.id}:post_licensing_letter")


def test_domain_licensed_on_the_marketplace__never_gets_a_letter(services, chain, smtp):
    """A real licence bought on the LicenseMarket for two domains: a case for one is refused, and a
    case opened on the other before the purchase closes at its next step without another letter."""
    setup = register_with_mandate(services, chain, seed=67)
    opened = open_test_case(setup, origin="https://shop.licensed.de")
    market = LicenseMarket(services.w3, services.deployment().address("LicenseMarket"))
    typed = market.build_offer(seller=setup.owner.address, registration_id=int(setup.registration_id, 16), price=10**16,
                               expiry=int(setup.now[0].timestamp()) + 86_400 * 30)
    signature = Account.sign_message(encode_typed_data(full_message=typed), setup.owner.key).signature
    market.buy(typed, bytes(signature), chain.w3.eth.accounts[6],
               [domain_hash("shop.licensed.de"), domain_hash("https://Blog.Licensed.de/")])

    env = services.enforcement()  # the marketplace check as wired for production
    env.clock = setup.env.clock
    with pytest.raises(CaseNotViable) as refused:
        open_case(env, registration_id=setup.registration_id, rights_holder=setup.owner.address,
                  copy=FoundCopy((8,), "https://blog.licensed.de/post", "https://blog.licensed.de/a.png", setup.now[0]),
                  recipient=Recipient("Blog", "blog@licensed.test"), country="DE",
                  claim=price_claim(LicencePrice(10**17, ETH, "standard", "collection", "Alps"), env.jurisdictions["DE"]),
                  mandate=setup.mandate, still_online=True)
    assert refused.value.details["failures"] == ["blog.licensed.de holds a licence for this image on the marketplace"]
    setup.now[0] += timedelta(days=15)
    escalate_due(env)
    with services.db.session() as db:
        case = db.get(Case, opened.case_id)
        keys = [m.idempotency_key for m in db.scalars(select(OutboxMessage))]
    assert case.status == "closed" and [k.split(":")[2] for k in keys] == ["post_licensing_letter"]
