"""`copytrack cases` against the same database, chain and SMTP server as the backend."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from backend.app import create_app
from backend.cli import main
from backend.enforcement.models import Case
from backend.services import Services
from tests.backend.crawl_site import Site
from tests.backend.test_crawler import CRAWL_SETTINGS
from tests.backend.test_market import publish
from tests.enforcement.hits import copy_of, crawl_and_mark_illegal, site_pages
from tests.enforcement.ladder import open_test_case, register_with_mandate


def test_cases_cli__lists_holds_resumes_closes_and_sends_mail(services, chain, smtp):
    setup = register_with_mandate(services, chain, seed=81)
    opened = open_test_case(setup)
    settings = services.settings
    env = {
        "COPYTRACK_DATA_DIR": str(settings.data_dir), "COPYTRACK_DATABASE_URL": settings.resolved_database_url,
        "COPYTRACK_RPC_URL": settings.rpc_url, "COPYTRACK_DEPLOYMENT_FILE": str(settings.resolved_deployment_file),
        "COPYTRACK_SMTP_PORT": str(smtp.controller.port),
    }

    def run(*args):
        result = CliRunner().invoke(main, ["cases", *args], env=env)
        return result

    listed = run("list", "--json")
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert (row["code"], row["stage"], row["status"], row["claim"]) == (opened.public_code, "post_licensing_letter", "active", str(15 * 10**16))

    sent = run("mail")
    assert sent.exit_code == 0 and "1 message(s) sent" in sent.output
    assert len(smtp.mailbox.received) == 1

    assert run("hold", str(opened.case_id), "--reason", "owner on holiday").exit_code == 0
    assert json.loads(run("list", "--json", "--status", "held").output)[0]["id"] == opened.case_id
    again = run("hold", str(opened.case_id), "--reason", "twice")
    assert again.exit_code == 1 and "is held, not active" in again.output
    assert run("resume", str(opened.case_id)).exit_code == 0
    shown = run("show", str(opened.case_id))
    assert "held" in shown.output and "resumed" in shown.output and "licence_fee" in shown.output
    assert run("close", str(opened.case_id), "--reason", "paid directly").exit_code == 0
    assert json.loads(run("list", "--json").output)[0]["status"] == "closed"
    missing = run("show", "999")
    assert missing.exit_code == 1 and "no case 999" in missing.output


@pytest.mark.parametrize("settings", [CRAWL_SETTINGS], indirect=True)
def test_cases_cli__viability_and_open_from_the_owner_s_illegal_hits(services, chain, monkeypatch):
    setup = register_with_mandate(services, chain, seed=83)
    services.indexer().poll()  # the mandate, as the chain indexer recorded it
    publish(create_app(services=services).test_client(), chain, setup.owner, setup.registration_id, countries=[])
    wired = Services.enforcement

    def on_the_test_clock(self):  # the CLI's own Services, on the clock the chain was moved to
        env = wired(self)
        env.clock = setup.env.clock
        return env

    monkeypatch.setattr(Services, "enforcement", on_the_test_clock)
    site = Site()
    site.host("127.0.0.2", "127.0.0.2", site_pages(copy_of(83), "recht@beispiel.test"))  # no DNS for the CLI
    site.start()
    try:
        assert crawl_and_mark_illegal(services, site, setup.owner.address, [site.url("127.0.0.2")]) != {}
        settings = services.settings
        env = {
            "COPYTRACK_DATA_DIR": str(settings.data_dir), "COPYTRACK_DATABASE_URL": settings.resolved_database_url,
            "COPYTRACK_RPC_URL": settings.rpc_url, "COPYTRACK_DEPLOYMENT_FILE": str(settings.resolved_deployment_file),
            "COPYTRACK_CRAWLER_ALLOW_NETWORKS": "127.0.0.0/8", "COPYTRACK_CRAWLER_DELAY": "0.1",
        }

        def run(*args):
            return CliRunner().invoke(main, ["cases", *args], env=env)

        checked = run("viability", setup.registration_id, "127.0.0.2", "--json")
        assert checked.exit_code == 0, checked.output
        body = json.loads(checked.output)
        assert body["viable"] and body["country"]["country"] == "DE" and body["recipient"]["email"] == "recht@beispiel.test"
        too_high = run("open", setup.registration_id, "127.0.0.2", "--damages-factor", "9")
        assert too_high.exit_code == 1 and "damages factor 9 is outside" in too_high.output
        opened = run("open", setup.registration_id, "127.0.0.2", "--notify-email", "owner@rights.test")
        assert opened.exit_code == 0, opened.output
        assert "opened; the post-licensing letter is queued" in opened.output
        again = run("open", setup.registration_id, "127.0.0.2")
        assert again.exit_code == 1 and "- case 1 already exists for 127.0.0.2" in again.output
        elsewhere = run("viability", setup.registration_id, "elsewhere.test")
        assert elsewhere.exit_code == 1 and "no hit marked illegal" in elsewhere.output
    finally:
        site.stop()
    with services.db.session() as db:
        [case] = db.scalars(select(Case)).all()
    assert (case.stage, case.owner_email, case.recipient_email) == ("post_licensing_letter", "owner@rights.test",
                                                                    "recht@beispiel.test")
