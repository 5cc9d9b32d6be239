"""Takedown notices: sent to the host's abuse desk, re-sent once, tracked until the copy is gone."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
from pypdf import PdfReader

from backend.enforcement.cases import FoundCopy
from backend.enforcement.documents import Party
from backend.enforcement.mail import deliver_due
from backend.enforcement.takedowns import check_takedowns, send_takedown
from tests.enforcement.ladder import register_with_mandate
from tests.enforcement.sites import Site
from tests.images import encode, picture


def still_online(url: str) -> bool:
    return httpx.get(url, timeout=5).status_code == 200


def test_takedown__is_sent_resent_once_and_closed_when_the_copy_is_gone(services, chain, smtp):
    setup = register_with_mandate(services, chain, seed=95)
    env = setup.env
    complainant = Party("Ada Photographer", "ada@photo.test", "1 Lens Lane, Springfield")
    copy_bytes = encode(picture(95, (160, 120)), "PNG")
    with Site({"/img/copy.png": ("image/png", copy_bytes)}) as host:
        copy = FoundCopy((3,), f"{host.origin}/post", f"{host.origin}/img/copy.png", setup.now[0])
        notice_id = send_takedown(env, law="dmca", registration_id=setup.registration_id, rights_holder=setup.owner.address,
                                  complainant=complainant, copy=copy, provider="hoster.test", abuse_contact="abuse@hoster.test")
        assert deliver_due(services.db, smtp.settings()) == 1
        [notice] = smtp.mailbox.received
        pdf = next(notice.iter_attachments()).get_content()
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        assert "512(c)(3)" in text and "penalty of perjury" in text and "ada@photo.test" in text

        assert check_takedowns(env, still_online, lambda owner: complainant) == {"removed": 0, "resent": 0, "escalated": 0}
        setup.now[0] += timedelta(days=15)
        assert check_takedowns(env, still_online, lambda owner: complainant)["resent"] == 1
        assert check_takedowns(env, still_online, lambda owner: complainant)["resent"] == 0  # not twice the same day
        assert deliver_due(services.db, smtp.settings()) == 1
        del host.pages["/img/copy.png"]  # the host took it down
        assert check_takedowns(env, still_online, lambda owner: complainant)["removed"] == 1
    assert len(smtp.mailbox.received) == 2
    assert notice_id > 0
