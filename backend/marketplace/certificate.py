"""A licence certificate as a one-page PDF: the image, the terms, the parties, the transaction, and
a QR code to the page where anyone can verify it (reportlab, with its own QR code widget)."""

from __future__ import annotations

import io
from decimal import Decimal

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

QR_SIZE = 40 * mm
IMAGE_BOX = 70 * mm


def _amount(units: str, currency: str) -> str:
    return f"{Decimal(int(units)).scaleb(-18).normalize():f} {currency}"


def render_pdf(certificate: dict, image: bytes | None, when) -> bytes:
    """The certificate (as `licences.certificate` builds it) as PDF bytes; `when` formats a unix time."""
    licence = certificate["licence"]
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=True)
    pdf.setTitle(f"Licence {licence['id']}")
    width, height = A4
    top = height - 25 * mm
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(20 * mm, top, f"Copytrack licence certificate no. {licence['id']}")
    if image is not None:
        try:
            pdf.drawImage(ImageReader(io.BytesIO(image)), 20 * mm, top - 10 * mm - IMAGE_BOX, IMAGE_BOX, IMAGE_BOX,
                          preserveAspectRatio=True, anchor="nw")
        except OSError:  # a format reportlab cannot draw: the certificate stands without the picture
            pass
    qr = QrCodeWidget(certificate["verify_url"])
    x0, y0, x1, y1 = qr.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (x1 - x0), 0, 0, QR_SIZE / (y1 - y0), 0, 0])
    drawing.add(qr)
    renderPDF.draw(drawing, pdf, width - 20 * mm - QR_SIZE, top - 10 * mm - QR_SIZE)
    rows = [
        ("Image", certificate["image"]["title"] or "(untitled)"),
        ("Registration", licence["registration_id"]),
        ("IPFS CID", certificate["image"]["cid"] or ""),
        ("Licensee", licence["licensee"]),
        ("Licensor (seller)", licence["seller"]),
        ("Licence type", licence["licence_type"]),
        ("Territory", ", ".join(licence["countries"]) or "worldwide"),
        ("Seats", str(licence["seats"])),
        ("Valid from", when(licence["starts_at"])),
        ("Valid until", when(licence["ends_at"]) if licence["ends_at"] else "perpetual"),
        ("Domains (keccak256)", ", ".join(h[:18] + "…" for h in licence["domain_hashes"])),
        ("Price", _amount(licence["price"], licence["currency"])),
        ("Status", "valid" if certificate["valid"] else "revoked or refunded"),
        ("Transaction", licence["tx_hash"]),
        ("Block", str(licence["block_number"])),
        ("Verify at", certificate["verify_url"]),
    ]
    y = top - 20 * mm - IMAGE_BOX
    for label, value in rows:
        pdf.setFont("Helvetica-Bold", 9)
        pdf.drawString(20 * mm, y, label)
        pdf.setFont("Helvetica", 9)
        pdf.drawString(60 * mm, y, value)
        y -= 6 * mm
    pdf.setFont("Helvetica-Oblique", 8)
    pdf.drawString(20 * mm, 15 * mm, "The licence is recorded on-chain; the transaction and the verification link prove it.")
    pdf.showPage()
    pdf.save()
    return out.getvalue()
