"""GraphQL multipart requests (the upload spec) built byte for byte, so a test controls
what a client library would clean up: file names with control characters, any declared
content type, any size."""

from __future__ import annotations

import json
from typing import Any

BOUNDARY = "paygraph-upload-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
ADD_DOCUMENT = """mutation($payment: ID!, $type: String!, $file: Upload!) {
  addPaymentDocument(paymentId: $payment, documentType: $type, file: $file) {
    document { databaseId fileName contentType sizeBytes sha256 downloadPath } } }"""
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def multipart_upload(
    query: str,
    variables: dict[str, Any],
    *,
    file_name: str,
    content_type: str,
    data: bytes,
    file_variable: str = "file",
) -> bytes:
    """The body of a GraphQL multipart request carrying one file as `$file_variable`."""
    operations = json.dumps({"query": query, "variables": {**variables, file_variable: None}})
    quoted_name = file_name.replace("\\", "\\\\").replace('"', '\\"')
    return (
        (
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="operations"\r\n\r\n'
            f"{operations}\r\n"
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="map"\r\n\r\n'
            f'{{"0": ["variables.{file_variable}"]}}\r\n'
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="0"; filename="{quoted_name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def document_upload(
    payment_id: str, *, file_name: str, content_type: str, data: bytes, kind: str = "invoice"
) -> bytes:
    """`addPaymentDocument` of one file to a payment (its global id)."""
    return multipart_upload(
        ADD_DOCUMENT,
        {"payment": payment_id, "type": kind},
        file_name=file_name,
        content_type=content_type,
        data=data,
    )
