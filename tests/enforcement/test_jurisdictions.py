"""The jurisdiction table: shipped data, the operator's file, and errors that name the entry."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backend.enforcement.country import country_from_address, country_from_hosting, country_from_tld, detect_country
from backend.enforcement.jurisdictions import JurisdictionError, load_jurisdictions


def test_shipped_table__covers_every_iso_country_with_valid_terms():
    table = load_jurisdictions()
    assert len(table) >= 140
    germany = table["de"]
    assert (germany.letter_language, germany.currency, germany.legal_stages) == ("de", "EUR", True)
    assert germany.partner_for().name.endswith("(fictional)")
    assert table["JP"].letter_language == "ja" and table["JP"].currency == "JPY"
    assert not table["AF"].legal_stages and table["AF"].partners == ()
    assert all(1 <= j.max_damages_factor <= 3 for j in table.values())


def test_operator_file__adds_a_partner_and_overrides_a_country(tmp_path):
    operator = tmp_path / "partners.toml"
    operator.write_text(
        '[partners.real-fr]\nname = "Cabinet Réel"\nemail = "avocat@cabinet.test"\naddress = "Paris, France"\nlanguages = ["en"]\n'
        '[countries.FR]\npartners = ["real-fr"]\nmax_damages_factor = "1.5"\n'
    )
    france = load_jurisdictions(operator)["FR"]
    assert france.partner_for().name == "Cabinet Réel"
    assert france.max_damages_factor == Decimal("1.5")
    assert france.currency == "EUR"  # the rest of the shipped entry stays


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('[countries.XY]\nlegal_stages = false\n', "country XY is not an ISO 3166-1"),
        ('[countries.FR]\nletter_language = "fr"\n', "country FR: letter_language 'fr' has no letter templates"),
        ('[countries.FR]\nmax_damages_factor = "10"\n', "country FR: max_damages_factor must be between 1 and 3"),
        ('[countries.FR]\nlegal_commission_bps = 6000\n', "country FR: legal_commission_bps must be between 3000 and 5000"),
        ('[countries.FR]\npartners = ["nobody"]\n', "country FR names partner(s) ['nobody']"),
        ('[countries.FR]\ncurrency = "EURO"\n', "country FR: currency 'EURO' is not an ISO 4217 code"),
        ('[countries.AF]\nlegal_stages = true\n', "country AF offers the legal stages but names no partner"),
        ('[partners.x]\nname = "X"\nemail = "none"\naddress = "A"\nlanguages = ["en"]\n', "partner 'x' has email 'none'"),
    ],
)
def test_operator_file__with_a_bad_entry__names_file_and_entry(tmp_path, entry, message):
    operator = tmp_path / "partners.toml"
    operator.write_text(entry)
    with pytest.raises(JurisdictionError) as error:
        load_jurisdictions(operator)
    assert message in str(error.value)
    assert str(operator) in str(error.value)


def test_country_from_tld__reads_cctlds_but_not_generic_ones():
    assert country_from_tld("https://www.bbc.co.uk/news").country == "GB"
    assert country_from_tld("beispiel.de").country == "DE"
    assert country_from_tld("startup.io") is None
    assert country_from_tld("example.com") is None


@pytest.mark.parametrize(
    ("address", "country"),
    [
        ("Beispiel GmbH, Musterstraße 1, 10115 Berlin, Deutschland", "DE"),
        ("〒100-0001 東京都千代田区千代田1-1 日本", "JP"),
        ("PO Box 1, Port Moresby, Papua New Guinea", "PG"),
        ("We breed guinea pigs. Studio: 5 rue de Rivoli, 75001 Paris, France", "FR"),
        ("Österreichische Firma GmbH, Wien, Österreich", "AT"),
    ],
)
def test_country_from_address__reads_the_country_an_imprint_names(address, country):
    assert country_from_address(address).country == country


def test_country_from_hosting__uses_the_registry_country_of_a_public_address():
    # resolved by an injected resolver: the lookup itself is offline (shipped registry data)
    assert country_from_hosting("example.jp", resolver=lambda host: ["127.0.0.1", "133.11.0.1"]).country == "JP"
    assert country_from_hosting("local.test", resolver=lambda host: ["127.0.0.1"]) is None


def test_detect_country__prefers_the_imprint_and_reports_disagreement():
    detection = detect_country("shop.example.com", "Shop Ltd, 1 High St, London, United Kingdom",
                               resolver=lambda host: ["133.11.0.1"])
    assert detection.country == "GB"
    assert detection.conflicting
    assert [e["source"] for e in detection.as_dict()["evidence"]] == ["imprint", "hosting"]
