"""The account page in a real browser against the whole stack: a rights-holder signs in, sets the
e-mail address where case news and the mail of new hits go, opens the confirmation link (no wallet
needed), and turns the mail of new hits off."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from backend.config import load_settings
from backend.db import Database
from backend.enforcement.models import OutboxMessage
from tests.web.conftest import check_page
from tests.web.test_webapp import dev_account

OWNER = dev_account(9)


def mailed_token(stack) -> str:
    """The code of the confirmation link, from the mail waiting in the stack's outbox."""
    settings = load_settings({"data_dir": stack.env["COPYTRACK_DATA_DIR"]}, environ={})
    database = Database(settings.resolved_database_url)
    try:
        with database.session() as db:
            body = db.scalar(select(OutboxMessage.body).where(OutboxMessage.subject.like("%confirm your e-mail%")))
    finally:
        database.dispose()
    return re.search(r"/account\?confirm=([A-Za-z0-9_-]+)", body).group(1)


def test_owner__sets_an_address__confirms_it_from_the_link__turns_the_mail_of_new_hits_off(open_page, stack):
    page = open_page("/account", account=OWNER.address)
    page.get_by_role("button", name="Connect Test Wallet").click()
    page.get_by_role("button", name="Sign in with Ethereum").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    expect(page.locator("#email-state")).to_have_text("No address yet.")
    expect(page.get_by_role("checkbox")).to_be_disabled()

    page.get_by_label("E-mail address").fill("not an address@example")
    page.get_by_role("button", name="Save and confirm").click()  # the browser's own check stops it first
    page.get_by_label("E-mail address").fill("anna@example.org")
    page.get_by_role("button", name="Save and confirm").click()
    expect(page.get_by_role("status")).to_have_text(
        "A confirmation link is on its way to anna@example.org. Open it to start receiving mail there.")
    expect(page.locator("#email-state")).to_have_text("anna@example.org is waiting for you to open the confirmation link.")
    expect(page.get_by_role("button", name="Send the link again")).to_be_enabled()
    check_page(page, "account")

    link = open_page(f"/account?confirm={mailed_token(stack)}")  # the mail's link: no wallet
    expect(link.get_by_role("status")).to_have_text(
        "anna@example.org is confirmed: case news and the mail of new hits go there now.")
    check_page(link, "account-confirmed")
    used = open_page(f"/account?confirm={mailed_token(stack)}")
    expect(used.get_by_role("alert")).to_contain_text("this confirmation link is unknown, used or expired")

    page.reload()
    expect(page.locator("#email-state")).to_have_text("anna@example.org is confirmed.")
    digest = page.get_by_role("checkbox", name="Mail me the new copies the crawler finds (at most one mail a day)")
    expect(digest).to_be_checked()
    digest.click()
    expect(page.get_by_role("status")).to_have_text("No more mails of new copies.")
    expect(digest).not_to_be_checked()
