"""The case documents, read back from the PDF with pypdf, in every letter language."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from backend.enforcement.documents import KINDS, render_document
from backend.enforcement.texts import TEXTS
from backend.errors import InvalidInput
from tests.enforcement.documents_fixture import CID, REGISTRATION_ID, SIGNATURE, TX_HASH, context

LANGUAGES = ("en", "de", "ja")


def read(pdf: bytes) -> tuple[str, int]:
    """The text without whitespace (long hashes wrap) and the number of raster images."""
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", "", text), sum(len(page.images) for page in reader.pages)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_texts__have_the_same_keys_in_every_language():
    assert set(TEXTS["de"]) == set(TEXTS["en"]) == set(TEXTS["ja"])


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["post_licensing_letter", "invoice", "legal_letter"])
def test_letter__shows_images_proof_mandate_fee_and_how_to_answer(kind, language):
    text, images = read(render_document(context(kind, language)))
    words = TEXTS[language]
    assert squeeze(words[f"{kind}.title"]) in text
    assert images == 2  # the registered image and the copy, side by side
    for fact in ("CT-7K3QX9", TX_HASH, CID, REGISTRATION_ID, f"https://copytrack.test/verify/{REGISTRATION_ID}",
                 SIGNATURE, "https://beispiel.test/blog/post", "0.15ETH(150000000000000000wei)", "s3cr3t-Word",
                 "2025-11-24"):  # block time 1764000000
        assert squeeze(fact) in text, fact
    for heading in ("proof", "mandate", "fee", "answer", "item.damages"):
        assert squeeze(words[heading]) in text, heading


@pytest.mark.parametrize("language", LANGUAGES)
def test_legal_letter__is_sent_by_the_partner_firm(language):
    text, _ = read(render_document(context("legal_letter", language)))
    assert squeeze("Demo-Kanzlei Beispiel & Partner (fictional)") in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_dmca_notice__has_every_element_of_512_c_3(language):
    text, images = read(render_document(context("dmca_notice", language)))
    words = TEXTS[language]
    # (i) signature, (ii) the work, (iii) the material and its location, (iv) contact data,
    # (v) good faith, (vi) accuracy under penalty of perjury
    for key in ("takedown.signature", "takedown.work", "takedown.infringing", "takedown.good_faith", "takedown.accuracy"):
        assert squeeze(words[key]) in text, key
    for fact in ("/AdaPhotographer/", CID, "https://beispiel.test/img/alps.jpg", "ada@photo.test", "1LensLane,Springfield"):
        assert fact in text, fact
    assert images == 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_dsa_notice__has_every_element_of_article_16(language):
    text, _ = read(render_document(context("dsa_notice", language)))
    words = TEXTS[language]
    # (a) substantiated reasons, (b) exact location, (c) name and e-mail, (d) bona fide statement
    for key in ("takedown.reasons", "takedown.bona_fide"):
        assert squeeze(words[key]) in text, key
    for fact in ("https://beispiel.test/blog/post", "https://beispiel.test/img/alps.jpg", "AdaPhotographer", "ada@photo.test"):
        assert fact in text, fact
    assert squeeze(words["takedown.good_faith"]) not in text  # a DMCA statement has no place here


@pytest.mark.parametrize("language", LANGUAGES)
def test_court_file__lists_the_archive_its_hash_and_the_course_of_the_case(language):
    text, _ = read(render_document(context("court_file", language)))
    for fact in ("9f" * 32, "evidence/page.warc.gz", "letters/post_licensing_letter.pdf", "2026-11-20", TX_HASH):
        assert fact in text, fact


def test_render_document__gives_the_same_bytes_for_the_same_case():
    assert render_document(context("invoice", "de")) == render_document(context("invoice", "de"))


def test_render_document__without_a_mandate__says_what_is_missing():
    with pytest.raises(InvalidInput) as error:
        render_document(context("post_licensing_letter", "en", mandate=None))
    assert "mandate" in error.value.message


def test_render_document__in_an_unknown_language__names_the_ones_there_are():
    with pytest.raises(InvalidInput) as error:
        render_document(context("invoice", "fr"))
    assert "['de', 'en', 'ja']" in error.value.message


def test_kinds__are_all_rendered():
    assert {k for k in KINDS} == {"post_licensing_letter", "invoice", "legal_letter", "court_file", "dmca_notice", "dsa_notice"}
