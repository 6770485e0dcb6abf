"""Hostile documents built on the fly: real files that make a parser slow or blow up its limits."""

from __future__ import annotations

import io
import zipfile


def slow_pdf(pages: int = 6) -> bytes:
    """A valid PDF whose pages are dense ruled grids of tiny numbers (12,000 cells a page):
    table extraction needs tens of seconds per page — far beyond a short parse budget."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer, pagesize=A4)
    for page in range(pages):
        sheet.setFont("Helvetica", 3)
        for row in range(200):
            y = 820 - row * 4
            for col in range(60):
                sheet.drawString(10 + col * 9.6, y, str((row * col + page) % 97))
            sheet.line(5, y - 1, 590, y - 1)
        for col in range(61):
            sheet.line(8 + col * 9.6, 20, 8 + col * 9.6, 822)
        sheet.showPage()
    sheet.save()
    return buffer.getvalue()


def docx_bomb(uncompressed_mb: int = 40) -> bytes:
    """A DOCX whose document.xml inflates ~1000:1 (a decompression bomb in miniature)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml",
                         '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                         'content-types"><Override PartName="/word/document.xml" ContentType="application/'
                         'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        package.writestr("_rels/.rels",
                         '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
                         '2006/relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.org/'
                         'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
                         '</Relationships>')
        body = b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/' \
               b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>' + b" " * (uncompressed_mb << 20) + \
               b"</w:t></w:r></w:p></w:body></w:document>"
        package.writestr("word/document.xml", body)
    return buffer.getvalue()
