"""The countries Copytrack enforces in, and the partner law firms working there.

The shipped file `data/jurisdictions.toml` holds every ISO 3166-1 country with its terms and the
fictional demo partners; an operator's file (setting `enforcement_partners_file`) adds real firms
and may override any country's terms. Both are validated entry by entry: an error names the file,
the entry and what to write instead.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Mapping

import pycountry

from backend.config import ConfigError
from backend.marketplace.settlement import MAX_COMMISSION_BPS, MIN_COMMISSION_BPS

SHIPPED_FILE = Path(__file__).parent / "data" / "jurisdictions.toml"
LETTER_LANGUAGES = ("en", "de", "ja")
# A claim may add damages on the licence price, but never more than triple it: a bound the
# letters can defend anywhere, whatever a country's file says.
DAMAGES_FACTOR_CEILING = Decimal(3)
PARTNER_FIELDS = {"name", "email", "address", "languages"}
COUNTRY_FIELDS = {
    "legal_stages", "commission_bps", "legal_commission_bps", "letter_language", "currency",
    "max_damages_factor", "partners",
}


class JurisdictionError(ConfigError):
    """A jurisdiction or partner entry cannot be used (the message names file and entry); a
    configuration error, so `copytrack run` stops at start with it."""


@dataclass(frozen=True)
class Partner:
    key: str
    name: str
    email: str
    address: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Jurisdiction:
    country: str  # ISO 3166-1 alpha-2
    name: str
    legal_stages: bool
    commission_bps: int
    legal_commission_bps: int
    letter_language: str
    currency: str
    max_damages_factor: Decimal
    partners: tuple[Partner, ...]

    def partner_for(self, language: str | None = None) -> Partner | None:
        """The firm that writes this country's legal letters (one speaking `language` if any does)."""
        language = language or self.letter_language
        for partner in self.partners:
            if language in partner.languages:
                return partner
        return self.partners[0] if self.partners else None


class Jurisdictions(Mapping[str, Jurisdiction]):
    """The validated table, looked up by ISO code (case-insensitive)."""

    def __init__(self, countries: dict[str, Jurisdiction], partners: dict[str, Partner]):
        self._countries = countries
        self.partners = partners

    def __getitem__(self, code: str) -> Jurisdiction:
        return self._countries[code.upper()]

    def __iter__(self):
        return iter(self._countries)

    def __len__(self) -> int:
        return len(self._countries)

    def supported(self, code: str | None) -> Jurisdiction | None:
        return self._countries.get(code.upper()) if code else None


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise JurisdictionError(f"jurisdiction file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise JurisdictionError(f"jurisdiction file {path} is not valid TOML: {error}") from None


def _partner(where: str, key: str, raw: Any) -> Partner:
    if not isinstance(raw, dict):
        raise JurisdictionError(f"{where}: partner {key!r} must be a table with {sorted(PARTNER_FIELDS)}")
    unknown = set(raw) - PARTNER_FIELDS
    missing = PARTNER_FIELDS - set(raw)
    if unknown or missing:
        raise JurisdictionError(
            f"{where}: partner {key!r} has unknown field(s) {sorted(unknown)} / lacks {sorted(missing)}; "
            f"a partner has exactly {sorted(PARTNER_FIELDS)}"
        )
    if "@" not in str(raw["email"]):
        raise JurisdictionError(f"{where}: partner {key!r} has email {raw['email']!r}, which is not an e-mail address")
    languages = raw["languages"]
    if not isinstance(languages, list) or not languages or not all(isinstance(x, str) for x in languages):
        raise JurisdictionError(f"{where}: partner {key!r} must list its languages, e.g. [\"de\", \"en\"]")
    return Partner(key, str(raw["name"]), str(raw["email"]), str(raw["address"]), tuple(languages))


def _country(where: str, code: str, raw: dict, partners: dict[str, Partner]) -> Jurisdiction:
    entry = f"{where}: country {code}"
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise JurisdictionError(f"{entry} is not an ISO 3166-1 alpha-2 code (e.g. DE, JP, US)")
    unknown = set(raw) - COUNTRY_FIELDS
    if unknown:
        raise JurisdictionError(f"{entry} has unknown field(s) {sorted(unknown)}; known: {sorted(COUNTRY_FIELDS)}")
    missing = {"legal_stages", "commission_bps", "letter_language", "currency", "max_damages_factor"} - set(raw)
    if missing:
        raise JurisdictionError(f"{entry} lacks {sorted(missing)}")
    if not isinstance(raw["legal_stages"], bool):
        raise JurisdictionError(f"{entry}: legal_stages must be true or false, got {raw['legal_stages']!r}")
    commission = raw["commission_bps"]
    if commission != MIN_COMMISSION_BPS:
        raise JurisdictionError(
            f"{entry}: commission_bps must be {MIN_COMMISSION_BPS} (the escrow opens every case at it), got {commission!r}"
        )
    legal_commission = raw.get("legal_commission_bps", commission)
    if not isinstance(legal_commission, int) or not MIN_COMMISSION_BPS <= legal_commission <= MAX_COMMISSION_BPS:
        raise JurisdictionError(
            f"{entry}: legal_commission_bps must be between {MIN_COMMISSION_BPS} and {MAX_COMMISSION_BPS}, got {legal_commission!r}"
        )
    if raw["letter_language"] not in LETTER_LANGUAGES:
        raise JurisdictionError(
            f"{entry}: letter_language {raw['letter_language']!r} has no letter templates; use one of {list(LETTER_LANGUAGES)}"
        )
    if pycountry.currencies.get(alpha_3=str(raw["currency"])) is None:
        raise JurisdictionError(f"{entry}: currency {raw['currency']!r} is not an ISO 4217 code (e.g. EUR, JPY)")
    try:
        factor = Decimal(str(raw["max_damages_factor"]))
    except InvalidOperation:
        raise JurisdictionError(f"{entry}: max_damages_factor {raw['max_damages_factor']!r} is not a number") from None
    if not Decimal(1) <= factor <= DAMAGES_FACTOR_CEILING:
        raise JurisdictionError(
            f"{entry}: max_damages_factor must be between 1 and {DAMAGES_FACTOR_CEILING} (times the licence price), got {factor}"
        )
    names = raw.get("partners", [])
    unknown_partners = [n for n in names if n not in partners]
    if unknown_partners:
        raise JurisdictionError(f"{entry} names partner(s) {unknown_partners} that no [partners.*] table defines")
    if raw["legal_stages"] and not names:
        raise JurisdictionError(f"{entry} offers the legal stages but names no partner firm to write the legal letter")
    return Jurisdiction(
        country=code, name=country.name, legal_stages=raw["legal_stages"], commission_bps=commission,
        legal_commission_bps=legal_commission, letter_language=raw["letter_language"], currency=str(raw["currency"]),
        max_damages_factor=factor, partners=tuple(partners[n] for n in names),
    )


def load_jurisdictions(operator_file: Path | str | None = None, shipped_file: Path = SHIPPED_FILE) -> Jurisdictions:
    """The shipped table, with the operator's partners added and their country entries replacing ours."""
    shipped = _read(shipped_file)
    operator = _read(Path(operator_file)) if operator_file else {}
    for source, data in ((shipped_file, shipped), (operator_file, operator)):
        unknown = set(data) - {"countries", "partners"}
        if unknown:
            raise JurisdictionError(f"{source}: unknown section(s) {sorted(unknown)}; a jurisdiction file has [countries.XX] and [partners.name]")
    partners: dict[str, Partner] = {}
    for source, data in ((shipped_file, shipped), (operator_file, operator)):
        for key, raw in data.get("partners", {}).items():
            partners[key] = _partner(str(source), key, raw)
    countries: dict[str, Jurisdiction] = {}
    for source, data in ((shipped_file, shipped), (operator_file, operator)):
        for code, raw in data.get("countries", {}).items():
            base = shipped.get("countries", {}).get(code, {}) if source == operator_file else {}
            countries[code] = _country(str(source), code, {**base, **raw}, partners)
    return Jurisdictions(countries, partners)
