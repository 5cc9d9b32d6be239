"""A complete document context, as a case builds it, for the document and mail tests."""

from __future__ import annotations

import io
from datetime import date, datetime, timezone

from PIL import Image

from backend.enforcement.documents import Answer, DocumentContext, Evidence, MandateProof, Party, RegistrationProof
from backend.enforcement.jurisdictions import load_jurisdictions
from backend.enforcement.pricing import LicencePrice, price_claim
from backend.marketplace.typed_data import ETH

TX_HASH = "0x" + "ab" * 32
REGISTRATION_ID = "0x" + "12" * 32
SIGNATURE = "0x" + "5e" * 65
CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


def png(colour: tuple[int, int, int], size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def context(kind: str, language: str, **overrides) -> DocumentContext:
    claim = price_claim(LicencePrice(10**17, ETH, "standard", "collection", "Alps"), load_jurisdictions()["DE"],
                        damages_factor="1.5")
    values = dict(
        kind=kind,
        language=language,
        reference="CT-7K3QX9",
        issued=date(2026, 12, 4),
        due=date(2026, 12, 18),
        letter_date=date(2026, 11, 20),
        recipient=Party("Beispiel GmbH", "recht@beispiel.test", "Musterstraße 1, 10115 Berlin"),
        rights_holder=Party("Ada Photographer", "ada@photo.test", "1 Lens Lane, Springfield"),
        registration=RegistrationProof(REGISTRATION_ID, "0x" + "0A" * 20, TX_HASH, 1_764_000_000, CID,
                                       f"https://copytrack.test/verify/{REGISTRATION_ID}", png((200, 30, 30))),
        evidence=Evidence("https://beispiel.test/blog/post", "https://beispiel.test/img/alps.jpg",
                          datetime(2026, 11, 18, 9, 30, tzinfo=timezone.utc), "bafybeiwarc", png((30, 30, 200))),
        domain="beispiel.test",
        claim=claim,
        mandate=MandateProof("0x" + "0A" * 20, "0x" + "0B" * 20, 1_900_000_000, 0, SIGNATURE),
        answer=Answer("https://copytrack.test/respond", "s3cr3t-Word", "0x" + "0C" * 20, 31337),
        partner=Party("Demo-Kanzlei Beispiel & Partner (fictional)", "kanzlei@example.org", "Berlin"),
        archive_sha256="9f" * 32,
        archive_contents=("evidence/page.warc.gz", "letters/post_licensing_letter.pdf"),
        timeline=(("2026-11-20", "post_licensing_letter"), ("2026-12-04", "invoice")),
    )
    values.update(overrides)
    return DocumentContext(**values)
