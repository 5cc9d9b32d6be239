"""The case documents as PDF (reportlab): letters, invoice, legal letter, court file cover and the
DMCA §512(c)(3) / EU DSA Art. 16 takedown notices, in English, German or Japanese.

Every letter carries what makes it checkable: the registered image beside the copy found, the
proof of registration with a QR code to the public verification page, the owner's mandate and its
signature, the fee with its calculation, and how to answer. Japanese is set in reportlab's built-in
CID font HeiseiMin-W3, so no font file ships with the project.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from backend.enforcement.pricing import Claim
from backend.enforcement.texts import TEXTS
from backend.errors import InvalidInput
from backend.marketplace.typed_data import ETH

JAPANESE_FONT = "HeiseiMin-W3"
KINDS = ("post_licensing_letter", "invoice", "legal_letter", "court_file", "dmca_notice", "dsa_notice")
IMAGE_BOX = 7.5 * cm


@dataclass(frozen=True)
class Party:
    name: str
    email: str
    address: str = ""


@dataclass(frozen=True)
class RegistrationProof:
    registration_id: str  # 0x-hex content hash, as the register records it
    owner: str
    tx_hash: str
    block_time: int  # unix seconds
    cid: str
    verify_url: str
    image: bytes | None = None  # the registered image, from the IPFS store


@dataclass(frozen=True)
class Evidence:
    page_url: str
    image_url: str
    found_at: datetime
    warc_cid: str | None = None
    image: bytes | None = None  # the copy as fetched


@dataclass(frozen=True)
class MandateProof:
    owner: str
    agent: str
    expiry: int
    nonce: int
    signature: str  # 0x-hex


@dataclass(frozen=True)
class Answer:
    respond_url: str
    secret: str
    escrow: str
    chain_id: int


@dataclass(frozen=True)
class DocumentContext:
    """Everything a document of a case may print."""

    kind: str
    language: str
    reference: str
    issued: date
    recipient: Party
    rights_holder: Party
    registration: RegistrationProof
    evidence: Evidence
    domain: str
    claim: Claim | None = None
    mandate: MandateProof | None = None
    answer: Answer | None = None
    due: date | None = None
    partner: Party | None = None
    letter_date: date | None = None  # the first letter, which the invoice refers to
    archive_sha256: str | None = None
    archive_contents: tuple[str, ...] = ()
    timeline: tuple[tuple[str, str], ...] = ()  # (when, what)


def format_amount(amount: int, asset: str) -> str:
    """`150000000000000000` wei → `0.15 ETH (150000000000000000 wei)`: readable and exact."""
    units = Decimal(amount) / Decimal(10**18)
    readable = format(units.normalize(), "f")
    if asset.lower() == ETH:
        return f"{readable} ETH ({amount} wei)"
    return f"{readable} tokens {asset} ({amount} base units)"


def _styles(language: str) -> dict[str, ParagraphStyle]:
    font, bold = ("Helvetica", "Helvetica-Bold")
    wrap = None
    if language == "ja":
        if JAPANESE_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(JAPANESE_FONT))
        font = bold = JAPANESE_FONT
        wrap = "CJK"
    base = dict(fontName=font, fontSize=9.5, leading=13, wordWrap=wrap)
    return {
        "body": ParagraphStyle("body", **base),
        "small": ParagraphStyle("small", **{**base, "fontSize": 7.5, "leading": 9.5}),
        "title": ParagraphStyle("title", **{**base, "fontName": bold, "fontSize": 14, "leading": 18, "spaceAfter": 8}),
        "heading": ParagraphStyle("heading", **{**base, "fontName": bold, "fontSize": 11, "leading": 15, "spaceBefore": 8, "spaceAfter": 4}),
    }


def _fitted_image(data: bytes | None) -> Image | None:
    if not data:
        return None
    with PILImage.open(io.BytesIO(data)) as probe:
        width, height = probe.size
    scale = min(IMAGE_BOX / width, IMAGE_BOX / height)
    return Image(io.BytesIO(data), width=width * scale, height=height * scale)


def _qr(url: str, size: float = 3 * cm) -> Drawing:
    widget = QrCodeWidget(url)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    return drawing


class _Writer:
    def __init__(self, ctx: DocumentContext):
        if ctx.kind not in KINDS:
            raise InvalidInput(f"unknown document kind {ctx.kind!r}; one of {list(KINDS)}")
        if ctx.language not in TEXTS:
            raise InvalidInput(f"no letter templates in {ctx.language!r}; one of {sorted(TEXTS)}")
        self.ctx = ctx
        self.texts = TEXTS[ctx.language]
        self.styles = _styles(ctx.language)
        self.story: list = []
        self.values = {
            "owner": ctx.rights_holder.name,
            "page_url": ctx.evidence.page_url,
            "domain": ctx.domain,
            "reference": ctx.reference,
            "due_date": ctx.due.isoformat() if ctx.due else "",
            "letter_date": ctx.letter_date.isoformat() if ctx.letter_date else "",
            "partner": ctx.partner.name if ctx.partner else "",
            "found_at": ctx.evidence.found_at.strftime("%Y-%m-%d %H:%M UTC"),
        }

    def t(self, key: str, **more) -> str:
        values = {k: escape(str(v)) for k, v in {**self.values, **more}.items()}
        return self.texts[key].format(**values)

    def para(self, text: str, style: str = "body") -> None:
        self.story.append(Paragraph(text, self.styles[style]))

    def table(self, rows: list[tuple[str, str]], widths=(5 * cm, 12 * cm)) -> None:
        cells = [[Paragraph(escape(a), self.styles["small"]), Paragraph(escape(b), self.styles["small"])] for a, b in rows]
        table = Table(cells, colWidths=widths)
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.grey)]))
        self.story.append(table)

    def header(self) -> None:
        ctx = self.ctx
        sender = ctx.partner if ctx.kind in ("legal_letter", "court_file") and ctx.partner else None
        self.para(escape(sender.name if sender else self.texts["sender"]), "small")
        recipient = [ctx.recipient.name, ctx.recipient.address, ctx.recipient.email]
        self.para("<br/>".join(escape(line) for line in recipient if line))
        self.story.append(Spacer(1, 0.4 * cm))
        rows = [(self.texts["reference"], ctx.reference), (self.texts["date"], ctx.issued.isoformat())]
        if ctx.due:
            rows.append((self.texts["due"], ctx.due.isoformat()))
        self.table(rows)
        self.story.append(Spacer(1, 0.4 * cm))
        self.para(escape(self.texts[f"{ctx.kind}.title"]), "title")

    def images(self) -> None:
        ctx = self.ctx
        self.para(escape(self.texts["images"]), "heading")
        registered, found = _fitted_image(ctx.registration.image), _fitted_image(ctx.evidence.image)
        table = Table(
            [[registered or "", found or ""],
             [Paragraph(escape(self.texts["registered_image"]), self.styles["small"]),
              Paragraph(self.t("found_copy"), self.styles["small"])]],
            colWidths=(8.5 * cm, 8.5 * cm),
        )
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (0, 0), (-1, -1), "CENTER")]))
        self.story.append(table)
        rows = [(self.texts["evidence.page"], ctx.evidence.page_url), (self.texts["evidence.image"], ctx.evidence.image_url)]
        if ctx.evidence.warc_cid:
            rows.append((self.texts["evidence.warc"], ctx.evidence.warc_cid))
        self.table(rows)

    def proof(self) -> None:
        reg = self.ctx.registration
        self.para(escape(self.texts["proof"]), "heading")
        block_time = datetime.fromtimestamp(reg.block_time, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        self.table([
            (self.texts["registration_id"], reg.registration_id),
            (self.texts["tx_hash"], reg.tx_hash),
            (self.texts["block_time"], block_time),
            (self.texts["cid"], reg.cid),
            (self.texts["verify"], reg.verify_url),
        ])
        self.story.append(_qr(reg.verify_url))

    def mandate(self) -> None:
        mandate = self.ctx.mandate
        if mandate is None:
            raise InvalidInput(f"a {self.ctx.kind} shows the owner's mandate; the case has none recorded")
        self.para(escape(self.texts["mandate"]), "heading")
        expiry = datetime.fromtimestamp(mandate.expiry, timezone.utc).strftime("%Y-%m-%d")
        self.para(self.t("mandate_text", owner=mandate.owner, agent=mandate.agent, nonce=mandate.nonce, expiry=expiry))
        self.table([(self.texts["signature"], mandate.signature)])

    def fee(self) -> None:
        claim = self.ctx.claim
        if claim is None:
            raise InvalidInput(f"a {self.ctx.kind} shows the fee; the case has no claim priced")
        self.para(escape(self.texts["fee"]), "heading")
        self.table([
            (f"{self.texts['item.' + line['item']]}: {line['basis']}", format_amount(int(line["amount"]), claim.asset))
            for line in claim.lines()
        ], widths=(10 * cm, 7 * cm))

    def answer(self) -> None:
        answer = self.ctx.answer
        if answer is None:
            raise InvalidInput(f"a {self.ctx.kind} says how to answer; the case has no response link")
        self.para(escape(self.texts["answer"]), "heading")
        self.para(self.t("answer_text", respond_url=answer.respond_url, secret=answer.secret, escrow=answer.escrow,
                         chain_id=answer.chain_id))

    def takedown(self) -> None:
        ctx, reg = self.ctx, self.ctx.registration
        self.para(escape(self.texts["takedown.work"]), "heading")
        self.table([(self.texts["registration_id"], reg.registration_id), (self.texts["cid"], reg.cid),
                    (self.texts["tx_hash"], reg.tx_hash), (self.texts["verify"], reg.verify_url)])
        self.para(escape(self.texts["takedown.infringing"]), "heading")
        self.images()
        self.para(escape(self.texts["takedown.contact"]), "heading")
        self.table([("", ctx.rights_holder.name), ("", ctx.rights_holder.address), ("", ctx.rights_holder.email)])
        self.para(escape(self.texts["takedown.reasons"]), "heading")
        self.para(self.t("takedown.reasons_text"))
        statements = ("takedown.good_faith", "takedown.accuracy") if ctx.kind == "dmca_notice" else ("takedown.bona_fide",)
        for key in statements:
            self.para(escape(self.texts[key]))
        self.table([(self.texts["takedown.signature"], f"/{ctx.rights_holder.name}/ {ctx.issued.isoformat()}")])

    def build(self) -> bytes:
        ctx = self.ctx
        self.header()
        if ctx.kind in ("dmca_notice", "dsa_notice"):
            self.para(escape(self.texts[f"{ctx.kind}.body"]))
            self.takedown()
        elif ctx.kind == "court_file":
            self.para(self.t("court_file.body"))
            self.para(escape(self.texts["court_file.archive"]), "heading")
            self.table([("SHA-256", ctx.archive_sha256 or "")])
            self.para(escape(self.texts["court_file.contents"]), "heading")
            self.table([(str(n + 1), name) for n, name in enumerate(ctx.archive_contents)], widths=(1.5 * cm, 15.5 * cm))
            self.para(escape(self.texts["court_file.timeline"]), "heading")
            self.table(list(ctx.timeline))
            self.fee()
            self.proof()
        else:
            self.para(self.t(f"{ctx.kind}.body"))
            self.fee()
            self.images()
            self.proof()
            self.mandate()
            self.answer()
        buffer = io.BytesIO()
        SimpleDocTemplate(
            buffer, pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=2 * cm, bottomMargin=2 * cm,
            title=self.texts[f"{ctx.kind}.title"], author="Copytrack", subject=ctx.reference, invariant=1,
        ).build(self.story)
        return buffer.getvalue()


def render_document(ctx: DocumentContext) -> bytes:
    """The PDF of `ctx.kind` in `ctx.language`; the same context gives the same bytes (so the
    SHA-256 logged on-chain can be recomputed from the stored document)."""
    return _Writer(ctx).build()
