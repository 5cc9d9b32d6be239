"""Which country a website answers to, from three independent sources.

1. The imprint or contact page's address (a legal notice names where the operator sits).
2. The country-code top-level domain (`.de`, `.co.uk`), unless it is one sold worldwide (`.io`).
3. The registry country of the hosting address: the Regional Internet Registries' allocation
   data, shipped offline in the `iptocc` package. It says where the address block was assigned,
   not where the server stands, so it counts least.

The imprint wins over the ccTLD, the ccTLD over the hosting address; every source that spoke is
kept as evidence, and a disagreement is reported rather than hidden.
"""

from __future__ import annotations

import gettext
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable

import iptocc
import pycountry

from backend.marketplace.typed_data import normalise_domain

# ccTLDs marketed as generic names: a `.io` or `.tv` site says nothing about where its operator is.
GENERIC_CCTLDS = frozenset({"ac", "ad", "ai", "am", "as", "bz", "cc", "cd", "co", "fm", "gg", "io", "la", "ly", "me",
                            "ms", "nu", "sh", "so", "st", "tk", "to", "tv", "vc", "ws"})
# TLDs that are not the ISO code of their country.
TLD_EXCEPTIONS = {"uk": "GB", "su": None, "eu": None}
# The languages whose country names an imprint is read in (pycountry ships the translations).
ADDRESS_LANGUAGES = ("de", "fr", "es", "it", "nl", "ja", "pt", "pl")
SOURCES = ("imprint", "cctld", "hosting")

Resolver = Callable[[str], Iterable[str]]


@dataclass(frozen=True)
class CountryEvidence:
    source: str  # one of SOURCES
    country: str
    detail: str  # what was read: the address words, the TLD, the IP address


@dataclass(frozen=True)
class CountryDetection:
    country: str | None
    evidence: tuple[CountryEvidence, ...] = field(default_factory=tuple)

    @property
    def conflicting(self) -> bool:
        return len({e.country for e in self.evidence}) > 1

    def as_dict(self) -> dict:
        return {
            "country": self.country,
            "conflicting": self.conflicting,
            "evidence": [{"source": e.source, "country": e.country, "detail": e.detail} for e in self.evidence],
        }


def country_from_tld(domain: str) -> CountryEvidence | None:
    host = normalise_domain(domain)
    tld = host.rsplit(".", 1)[-1]
    if tld in TLD_EXCEPTIONS:
        code = TLD_EXCEPTIONS[tld]
    elif len(tld) == 2 and tld not in GENERIC_CCTLDS and pycountry.countries.get(alpha_2=tld.upper()):
        code = tld.upper()
    else:
        code = None
    return CountryEvidence("cctld", code, f".{tld}") if code else None


@lru_cache(maxsize=1)
def _country_names() -> list[tuple[re.Pattern, str]]:
    """(pattern, code) for every country's names in English and the address languages, longest first
    so that 'Papua New Guinea' is read before 'Guinea'."""
    names: dict[str, str] = {}
    translations = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]) for lang in ADDRESS_LANGUAGES]
    for country in pycountry.countries:
        english = {country.name, getattr(country, "common_name", country.name), getattr(country, "official_name", country.name)}
        for name in list(english):
            for translation in translations:
                english.add(translation.gettext(name))
        for name in english:
            names.setdefault(name, country.alpha_2)
    names.update({"USA": "US", "U.S.A.": "US", "UK": "GB", "Great Britain": "GB", "England": "GB", "Schweiz": "CH",
                  "Suisse": "CH", "Deutschland": "DE", "Österreich": "AT", "日本国": "JP"})
    patterns = []
    for name, code in sorted(names.items(), key=lambda item: -len(item[0])):
        # CJK names have no word boundaries; Latin ones must stand as whole words.
        boundary = "" if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", name) else r"\b"
        patterns.append((re.compile(boundary + re.escape(name) + boundary), code))
    return patterns


def country_from_address(text: str) -> CountryEvidence | None:
    """The country an address names (the last one named, as an address ends with its country)."""
    found: list[tuple[int, str, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern, code in _country_names():
        for match in pattern.finditer(text):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue
            taken.append((match.start(), match.end()))
            found.append((match.start(), code, match.group(0)))
    if not found:
        return None
    _, code, words = max(found)
    return CountryEvidence("imprint", code, words)


def _resolve(host: str) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})


def country_from_hosting(domain: str, resolver: Resolver = _resolve) -> CountryEvidence | None:
    """The registry country of the first public address the host resolves to."""
    try:
        addresses = list(resolver(normalise_domain(domain)))
    except OSError:
        return None
    for address in addresses:
        if not ipaddress.ip_address(address).is_global:
            continue
        code = iptocc.country_code(address)
        if code:
            return CountryEvidence("hosting", code, address)
    return None


def detect_country(domain: str, imprint_text: str | None = None, resolver: Resolver = _resolve) -> CountryDetection:
    """Every source's answer, and the country of the strongest one that answered."""
    evidence = tuple(
        e for e in (
            country_from_address(imprint_text) if imprint_text else None,
            country_from_tld(domain),
            country_from_hosting(domain, resolver),
        ) if e is not None
    )
    return CountryDetection(evidence[0].country if evidence else None, evidence)
