"""Partner lawyers: a signed link in the briefing mail opens the case, no account or wallet, and
messages in the conversation reach them by mail."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from backend.app import create_app
from backend.enforcement.cases import escalate_due
from backend.enforcement.lawyers import lawyer_token
from backend.enforcement.mail import deliver_due
from backend.enforcement.owner import post_message
from tests.enforcement.ladder import open_test_case, register_with_mandate


def test_lawyer__opens_the_case_from_the_mailed_link_and_writes_in_the_conversation(services, chain, smtp):
    setup = register_with_mandate(services, chain, seed=99)
    opened = open_test_case(setup)
    for _ in range(2):  # → invoice → legal letter
        setup.now[0] += timedelta(days=15)
        escalate_due(setup.env)
    deliver_due(services.db, smtp.settings())
    [brief] = [m for m in smtp.mailbox.received if m["To"] == "kanzlei@example.org"]
    token = re.search(r"/lawyer#(\S+)", brief.get_content()).group(1)
    client = create_app(services=services).test_client()

    case = client.get("/api/v1/lawyer/case", headers={"X-Lawyer-Token": token}).get_json()
    assert case["reference"] == opened.public_code and case["lawyer"] == "kanzlei@example.org"
    assert [d["kind"] for d in case["documents"]] == ["post_licensing_letter", "invoice", "legal_letter"]
    written = client.post("/api/v1/lawyer/case/messages", json={"body": "filing next week"}, headers={"X-Lawyer-Token": token})
    assert written.status_code == 201 and written.get_json()["messages"][-1]["role"] == "lawyer"

    post_message(setup.env, opened.case_id, setup.owner.address, frozenset(), "they offered half")
    post_message(setup.env, opened.case_id, setup.owner.address, frozenset(), "they offered half")  # a second, same text
    deliver_due(services.db, smtp.settings())
    notes = [m for m in smtp.mailbox.received if "new message from the rights holder" in m["Subject"]]
    assert len(notes) == 2 and "they offered half" in notes[0].get_content() and "/lawyer#" in notes[0].get_content()

    assert client.get("/api/v1/lawyer/case").status_code == 401
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get("/api/v1/lawyer/case", headers={"X-Lawyer-Token": tampered}).status_code == 401
    other_key = replace(setup.env, signing_key="another deployment")
    forged = lawyer_token(other_key, opened.case_id, "kanzlei@example.org")
    assert client.get("/api/v1/lawyer/case", headers={"X-Lawyer-Token": forged}).status_code == 401
