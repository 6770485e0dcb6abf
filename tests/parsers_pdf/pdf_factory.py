"""Bad and odd PDFs made on the fly, so each test knows exactly what it feeds the extractor."""

from __future__ import annotations

import io


def minimal_pdf(page_count: int, declared_count: int | None = None) -> bytes:
    """A valid PDF with ``page_count`` empty pages, written by hand (fast even for 5,000 pages).

    ``declared_count`` lets the page tree's /Count lie, as hostile files do.
    """
    first_page = 3
    kids = " ".join(f"{first_page + i} 0 R" for i in range(page_count))
    count = page_count if declared_count is None else declared_count
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * page_count
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref_at = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode())
    return out.getvalue()


def text_pdf(lines: list[str], encrypt: object = None) -> bytes:
    """A one-page PDF with CJK text lines (reportlab), optionally encrypted."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, encrypt=encrypt)
    page.setTitle("测试报告")
    page.setFont("STSong-Light", 14)
    y = 780
    for line in lines:
        page.drawString(72, y, line)
        y -= 24
    page.showPage()
    page.save()
    return buffer.getvalue()


def encrypted_pdf(user_password: str = "secret", owner_password: str = "owner") -> bytes:
    from reportlab.lib.pdfencrypt import StandardEncryption

    return text_pdf(["加密文件"], encrypt=StandardEncryption(user_password, owner_password))
