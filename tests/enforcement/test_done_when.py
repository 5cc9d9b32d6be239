"""Issue 11's "Done when", end to end on real components: a registered image found by the crawler
on a local site → the hit marked illegal → the owner's signed mandate → the case opened over the
API → post-licensing letter, invoice, legal letter and court claim by the escalation job → the
mails read from a real SMTP server and their PDFs read back → the recipient pays in two
instalments with the transaction the API gives → the indexer sees the final payment → settled,
and the owner heard of every step. Hits on a licensed and on a whitelisted domain get no letter."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from pypdf import PdfReader
from sqlalchemy import select

from backend.app import create_app
from backend.crawler.models import WhitelistedDomain
from backend.enforcement.cases import escalate_due
from backend.enforcement.mail import deliver_due
from backend.enforcement.models import Case, OutboxMessage
from backend.enforcement.owner import _from_json
from backend.marketplace import LicenseMarket, domain_hash
from tests.backend.conftest import Auth
from tests.backend.crawl_site import Site
from tests.backend.test_crawler import CRAWL_SETTINGS
from tests.backend.test_market import PRICE, publish
from tests.enforcement.hits import copy_of, crawl_and_mark_illegal, site_pages
from tests.enforcement.ladder import open_test_case, register_image, register_with_mandate

OWNER_MAIL, OPERATOR_MAIL = "owner@rights.test", "operator@copytrack.test"
SETTINGS = {**CRAWL_SETTINGS, "enforcement_operator_email": OPERATOR_MAIL}
SEED = 131


def squeezed_pdf_text(data: bytes) -> str:
    """The PDF's text without whitespace (long hashes and URLs wrap)."""
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def pdf_images(data: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages)


def attachments(mail) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in mail.iter_attachments()}


@pytest.fixture
def site():
    site = Site()
    yield site
    site.stop()


@pytest.mark.postgres
@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_done_when__crawled_copy_to_a_settlement_paid_on_chain(services, chain, smtp, site):
    owner, registration_id = register_image(services, chain, SEED)
    now = [datetime.fromtimestamp(chain.w3.eth.get_block("latest")["timestamp"], timezone.utc)]
    wired = services.enforcement

    def enforcement():  # the ladder as wired for production, on the test's clock
        env = wired()
        env.clock = lambda: now[0]
        return env

    services.enforcement = enforcement
    client = create_app(services=services).test_client()
    auth = Auth(client)
    headers = auth.headers(owner)
    publish(client, chain, owner, registration_id, countries=[])  # the owner's price for a standard licence

    # the copy on three sites: an infringer, a licensee and a friend the owner whitelisted
    hosts = {"copier.test": "127.0.0.2", "licensed.test": "127.0.0.3", "friend.test": "127.0.0.4"}
    for host, address in hosts.items():
        site.host(host, address, site_pages(copy_of(SEED), f"recht@{host}"))
    site.start()
    services.site_resolver = site.resolver
    hits = crawl_and_mark_illegal(services, site, owner.address, [site.url(host) for host in hosts])
    assert set(hits) == set(hosts)
    with services.db.session() as db:
        db.add(WhitelistedDomain(owner=owner.address, domain="friend.test"))
    market = LicenseMarket(services.w3, services.deployment().address("LicenseMarket"))
    typed = market.build_offer(seller=owner.address, registration_id=int(registration_id, 16), price=10**16,
                               expiry=int(now[0].timestamp()) + 30 * 86_400)
    market.buy(typed, bytes(Account.sign_message(encode_typed_data(full_message=typed), owner.key).signature),
               chain.w3.eth.accounts[6], [domain_hash("licensed.test")])

    # no mandate yet: the check says so, and what else it found
    viability = client.get("/api/v1/cases/viability", query_string={"registration_id": registration_id,
                                                                     "domain": "copier.test"}, headers=headers)
    assert viability.status_code == 200, viability.get_json()
    body = viability.get_json()
    assert body["viable"] is False and any("sign the mandate" in f for f in body["failures"])
    assert body["country"]["country"] == "DE" and body["recipient"]["email"] == "recht@copier.test"
    assert body["copy"]["still_online"] is True and body["claim"]["licence_fee"] == str(PRICE)
    read_by_the_check = site.fetched("copier.test")

    # the mandate, signed by the owner's key
    asked = client.get("/api/v1/mandates/typed-data", query_string={"registration_id": registration_id}, headers=headers)
    mandate_typed = asked.get_json()["typed_data"]
    signature = Account.sign_message(encode_typed_data(full_message=_from_json(mandate_typed)), owner.key).signature
    assert client.post("/api/v1/mandates", json={"typed_data": mandate_typed, "signature": signature.to_0x_hex()},
                       headers=headers).status_code == 201
    services.indexer().poll()

    # the licensed and the whitelisted domain: refused, every reason said, nothing written
    for domain, reason in (("licensed.test", "licensed.test holds a licence"), ("friend.test", "on your whitelist")):
        refused = client.post("/api/v1/cases", json={"registration_id": registration_id, "domain": domain},
                              headers=headers)
        assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "case_not_viable"
        assert refused.get_json()["error"]["details"]["failures"] == [
            next(f for f in refused.get_json()["error"]["details"]["failures"] if reason in f)]
    stranger = auth.headers(Account.create())
    assert client.post("/api/v1/cases", json={"registration_id": registration_id, "domain": "copier.test"},
                       headers=stranger).status_code == 404

    opened = client.post("/api/v1/cases", json={"registration_id": registration_id, "domain": "copier.test",
                                                "damages_factor": "1.5", "notify_email": OWNER_MAIL}, headers=headers)
    assert opened.status_code == 201, opened.get_json()
    assert site.fetched("copier.test") == read_by_the_check  # the check's reading of the site, used again
    case = opened.get_json()
    code, total = case["reference"], str(PRICE * 3 // 2)
    assert (case["stage"], case["country"], case["claim"]["total"]) == ("post_licensing_letter", "DE", total)
    assert case["hit_ids"] == [hits["copier.test"]]
    again = client.post("/api/v1/cases", json={"registration_id": registration_id, "domain": "copier.test"},
                        headers=headers)
    assert again.status_code == 422 and "already exists" in again.get_json()["error"]["message"]

    # 1. the post-licensing letter, and the owner and operator told
    smtp_settings = smtp.settings()
    deliver_due(services.db, smtp_settings)
    mailbox = smtp.mailbox.received
    [letter] = [m for m in mailbox if m["To"] == "recht@copier.test"]
    pdf = attachments(letter)[f"{code}-post_licensing_letter.pdf"]
    text = squeezed_pdf_text(pdf)
    with services.db.session() as db:
        registration = db.execute(select(Case.registration_id).where(Case.public_code == code)).scalar_one()
    page_url = site.url("copier.test")
    for fact in (code, page_url, site.url("copier.test", "/img/alps.jpg"), "0.075ETH", registration,
                 f"/verify/{registration_id}", signature.to_0x_hex(), "Nachlizenzierung"):
        assert fact in text, fact
    assert pdf_images(pdf) == 2  # the registered image beside the copy as found
    secret = re.search(r"Geheimnis([A-Za-z0-9_-]{16})ein", text).group(1)
    told = {(m["To"], m["Subject"].split(": ", 1)[1]) for m in mailbox if m["To"] in (OWNER_MAIL, OPERATOR_MAIL)}
    assert told == {(to, subject) for to in (OWNER_MAIL, OPERATOR_MAIL)
                    for subject in ("case opened", "post licensing letter sent")}

    # 2.-4. the escalation job after each deadline; a second run the same day does nothing
    env = services.enforcement()
    for stage in ("invoice", "legal_letter", "court_claim"):
        now[0] += timedelta(days=15)
        assert escalate_due(env)["escalated"] == 1, stage
        assert escalate_due(env)["escalated"] == 0
    deliver_due(services.db, smtp_settings)
    by_name = {name: data for m in mailbox for name, data in attachments(m).items()}
    assert "Rechnung" in squeezed_pdf_text(by_name[f"{code}-invoice.pdf"])
    legal = squeezed_pdf_text(by_name[f"{code}-legal_letter.pdf"])
    assert "Demo-Kanzlei" in legal and total in legal and page_url in legal
    with zipfile.ZipFile(io.BytesIO(by_name[f"{code}-case-file.zip"])) as archive:
        assert {"evidence/page.warc.gz", "evidence/copy_found", "evidence/registered_image", "chain/proofs.json",
                "letters/invoice.pdf", "letters/legal_letter.pdf"} <= set(archive.namelist())

    # the recipient pays in two instalments, each with the transaction the API gives
    respond = f"/api/v1/responses/{code}"
    payer = chain.w3.eth.accounts[3]
    for amount in (str(3 * 10**16), None):
        shown = client.get(respond, query_string={"amount": amount} if amount else {}, headers={"X-Case-Secret": secret})
        assert shown.status_code == 200, shown.get_json()
        tx = shown.get_json()["payment"]
        sent = chain.w3.eth.send_transaction({"from": payer, "to": tx["to"], "data": tx["data"], "value": int(tx["value"])})
        assert chain.w3.eth.wait_for_transaction_receipt(sent)["status"] == 1
        assert escalate_due(env)["settled"] == 0  # the ladder learns of payments from the indexer only
        services.indexer().poll()
        assert escalate_due(env)["settled"] == (0 if amount else 1)
    assert escalate_due(env)["settled"] == 0

    detail = client.get(f"/api/v1/cases/{case['id']}", headers=headers).get_json()
    assert detail["status"] == "settled" and detail["escrow"]["amount_paid"] == total
    first, second = detail["escrow"]["payments"]
    assert (first["amount"], second["amount"]) == (str(3 * 10**16), str(int(total) - 3 * 10**16))
    for payment in (first, second):  # the commission as the escrow split it: 50% after the legal letter in DE
        assert int(payment["commission"]) == int(payment["amount"]) // 2
        assert int(payment["to_rights_holder"]) == int(payment["amount"]) - int(payment["commission"])
        assert re.fullmatch(r"0x[0-9a-f]{64}", payment["tx_hash"])

    # the owner's share waits on the escrow; they see it, and withdraw it with the API's transaction
    share = sum(int(p["to_rights_holder"]) for p in (first, second))
    held = client.get(f"/api/v1/credits/{owner.address}").get_json()
    assert held["settlement"] == {"ETH": str(share), "CPY": "0"} and held["market"] == {"ETH": "0", "CPY": "0"}  # its licence sale is still in escrow
    withdrawal = client.post("/api/v1/settlement/withdraw", json={"account": owner.address}).get_json()
    assert withdrawal["credit"] == str(share)
    chain.fund(owner.address)
    before = chain.w3.eth.get_balance(owner.address)
    tx = withdrawal["transactions"][0]
    signed = owner.sign_transaction({"to": tx["to"], "data": tx["data"], "value": 0, "chainId": tx["chainId"], "gas": 200_000,
                                     "nonce": chain.w3.eth.get_transaction_count(owner.address),
                                     "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9})
    receipt = chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_raw_transaction(signed.raw_transaction))
    assert chain.w3.eth.get_balance(owner.address) == before + share - receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert client.get(f"/api/v1/credits/{owner.address}").get_json()["settlement"]["ETH"] == "0"
    again = client.post("/api/v1/settlement/withdraw", json={"account": owner.address})
    assert again.status_code == 400 and "nothing to withdraw in ETH from the settlement escrow" in again.get_json()["error"]["message"]
    assert client.get("/api/v1/credits/0x12").status_code == 400

    deliver_due(services.db, smtp_settings)
    owner_subjects = [m["Subject"].split(": ", 1)[1] for m in mailbox if m["To"] == OWNER_MAIL]
    assert owner_subjects == ["case opened", "post licensing letter sent", "invoice sent", "legal letter sent",
                              "court claim sent", "payment received", "payment received", "settled"]
    assert [m["Subject"] for m in mailbox if m["To"] == OPERATOR_MAIL] == [m["Subject"] for m in mailbox
                                                                             if m["To"] == OWNER_MAIL]
    assert deliver_due(services.db, smtp_settings) == 0  # everything once
    with services.db.session() as db:
        addresses = set(db.scalars(select(OutboxMessage.to_address)))
    assert not addresses & {"recht@licensed.test", "recht@friend.test"}  # no letter, ever


def test_domain_whitelisted_after_opening__case_closes_before_its_next_letter(services, chain):
    setup = register_with_mandate(services, chain, seed=132)
    opened = open_test_case(setup)
    with services.db.session() as db:
        db.add(WhitelistedDomain(owner=setup.owner.address, domain="beispiel.de"))
    setup.now[0] += timedelta(days=15)
    assert escalate_due(setup.env)["escalated"] == 0
    with services.db.session() as db:
        case = db.get(Case, opened.case_id)
        stages = [m.idempotency_key.split(":")[2] for m in db.scalars(select(OutboxMessage))]
        closing = next(e for e in case.timeline if e.event == "closed_allowed")
    assert (case.status, case.stage) == ("closed", "post_licensing_letter") and stages == ["post_licensing_letter"]
    assert "shop.beispiel.de is on your whitelist" in closing.detail["reason"]
