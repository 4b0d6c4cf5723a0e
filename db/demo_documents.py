"""The demo's payment documents as real files: one small PDF per document type and
tenant, stored content-addressed like any upload, and every demo document of that type
points at it. A handful of files serves any scale (the bench scale has 400,000
documents), and every document downloads with the sha256 and size its row records."""

from __future__ import annotations

from dataclasses import dataclass

from domain.storage import DocumentStorage, content_key

CONTENT_TYPE = "application/pdf"
TITLES = {
    "invoice": "Commission invoice",
    "tax_certificate": "Tax certificate",
    "bank_statement": "Bank statement",
}


@dataclass(frozen=True, slots=True)
class DemoFile:
    """A demo document's file: its bytes and what its rows record about them."""

    data: bytes
    storage_key: str
    sha256: str

    @property
    def size_bytes(self) -> int:
        return len(self.data)


def demo_files(tenant_id: int, tenant_name: str) -> dict[str, DemoFile]:
    """The tenant's file for each document type, keyed by type."""
    files = {}
    for document_type, title in TITLES.items():
        data = demo_pdf(f"{title} - {tenant_name} (PayGraph demo)")
        key, digest = content_key(tenant_id, data)
        files[document_type] = DemoFile(data, key, digest)
    return files


async def store_demo_files(
    storage: DocumentStorage, tenant_id: int, files: dict[str, DemoFile]
) -> None:
    """Write the files (content-addressed: under the keys `demo_files` computed)."""
    for document_type, file in files.items():
        await storage.put(
            tenant_id, file.data, file_name=f"{document_type}.pdf", content_type=CONTENT_TYPE
        )


def demo_pdf(line: str) -> bytes:
    """A one-page PDF showing `line` (ASCII), with a correct cross-reference table, so
    any viewer opens it."""
    text = line.encode("ascii").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    stream = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
