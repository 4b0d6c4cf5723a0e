"""What an uploaded document may be: its declared type, what its first bytes say it really
is, and its name. Checked before anything is stored, so a refused upload leaves no file
and no row."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from domain.errors import BadUserInput

# The allowed types, each with the magic bytes its files start with. A file is what its
# bytes say: an HTML page or an executable declared as application/pdf is refused.
SIGNATURES: Mapping[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
CONTENT_TYPES = frozenset(SIGNATURES)
TYPE_NAMES: Mapping[str, str] = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
}
# Enough of the file to recognise every signature above.
HEAD_BYTES = max(len(magic) for magics in SIGNATURES.values() for magic in magics)
# The payment_document.file_name column holds this many characters.
MAX_FILE_NAME = 255
FIELD = "file"


def check_upload(file_name: str, content_type: str, head: bytes) -> None:
    """Refuse with BAD_USER_INPUT (field `file`) a name that is too long or holds control
    characters, a declared type that is not allowed, an empty file, or a file whose
    first bytes are not those of its declared type. `head` is the file's first
    `HEAD_BYTES` bytes (fewer for a shorter file)."""
    if len(file_name) > MAX_FILE_NAME:
        raise BadUserInput(
            f"The file name is {len(file_name)} characters long; at most {MAX_FILE_NAME} "
            "are allowed.",
            field=FIELD,
        )
    if any(unicodedata.category(c) in {"Cc", "Cs"} for c in file_name):
        raise BadUserInput(
            "The file name must not contain control characters (NUL, line breaks, ...).",
            field=FIELD,
        )
    check_content_type(content_type)
    if not head:
        raise BadUserInput("The uploaded file is empty.", field=FIELD)
    if not head.startswith(SIGNATURES[content_type]):
        name = TYPE_NAMES[content_type]
        raise BadUserInput(
            f"The file is sent as {content_type} but its content is not a {name} file.",
            field=FIELD,
        )


def check_content_type(content_type: str) -> None:
    """Refuse with BAD_USER_INPUT (field `file`) a declared type that is not allowed."""
    if content_type not in CONTENT_TYPES:
        *others, last = (TYPE_NAMES[t] for t in SIGNATURES)
        allowed = f"{', '.join(others)} or {last}"
        raise BadUserInput(f"Documents must be {allowed}, not {content_type}.", field=FIELD)
