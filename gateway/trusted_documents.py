"""Trusted documents: GraphQL documents known before any request (a manifest the
dashboard's build writes, gateway.document_manifest), each named by the SHA-256 of its
text. A request may name one instead of sending it: `documentId` (GraphQL over HTTP's
persisted documents appendix: `sha256:<hex>`, or the bare hex GraphQL Code Generator
sends) or Apollo's `extensions.persistedQuery.sha256Hash`. With `trusted_only`, nothing
else runs: a document sent as text runs only if it is one of them, to the byte.

`resolve` turns what a request sent into the text to run and the trusted document it is
(or None), or refuses it with a Refusal and a code of its own."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from strawberry.http.parse_content_type import parse_content_type

from gateway.graphql_response import Refusal
from gateway.request_guard import BAD_REQUEST

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
DOCUMENT_NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"
DOCUMENT_HASH_MISMATCH = "DOCUMENT_HASH_MISMATCH"
SHA256_PREFIX = "sha256:"
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def digest_of(text: str) -> str:
    """The lower-case hex SHA-256 of `text` in UTF-8: a trusted document's name."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def digest_in(document_id: str) -> str | None:
    """The hex digest a document id names (`sha256:<64 hex>` or the 64 hex alone), None
    for any other id."""
    payload = document_id.removeprefix(SHA256_PREFIX)
    return payload if _HEX_DIGEST.fullmatch(payload) else None


@dataclass(frozen=True, slots=True)
class TrustedDocument:
    digest: str
    text: str
    # The names of its operations, in order (None for an anonymous one).
    operations: tuple[str | None, ...]

    @property
    def id(self) -> str:
        return SHA256_PREFIX + self.digest

    def operation_name(self, requested: str | None) -> str | None:
        """The name of the operation a request for `requested` runs: that one if the
        document holds it, the document's only operation when none is requested; None
        otherwise (and for an anonymous operation)."""
        if requested:
            return requested if requested in self.operations else None
        return self.operations[0] if len(self.operations) == 1 else None


class TrustedDocuments:
    """The manifest's documents by digest."""

    def __init__(self, documents: Iterable[TrustedDocument] = (), *, only: bool = False):
        self._by_digest = {document.digest: document for document in documents}
        # Run nothing else: a document sent as text must be one of these.
        self.only = only

    def __len__(self) -> int:
        return len(self._by_digest)

    def __iter__(self) -> Any:
        return iter(self._by_digest.values())

    def get(self, digest: str) -> TrustedDocument | None:
        return self._by_digest.get(digest)


@dataclass(frozen=True, slots=True)
class Resolved:
    query: str | None  # the text to run (None: the request sent none)
    trusted: TrustedDocument | None


ABSENT: Any = object()


def resolve(
    documents: TrustedDocuments,
    *,
    query: str | None,
    document_id: object = ABSENT,
    extensions: Mapping[str, Any] | None = None,
) -> Resolved:
    """What to run for a request that sent `query`, `documentId` and `extensions`; raises
    Refusal (400) for an unknown id, a text that does not match its id, a malformed id,
    or (with `documents.only`) a text that is not trusted."""
    digest = _named_digest(document_id, extensions)
    if digest is None:
        if query is None:
            return Resolved(None, None)  # Strawberry says no query was sent
        trusted = documents.get(digest_of(query)) if len(documents) else None
        if trusted is None and documents.only:
            raise Refusal(
                400,
                DOCUMENT_NOT_TRUSTED,
                "Only trusted documents run on this server: send the documentId of one.",
            )
        return Resolved(query, trusted)
    trusted = documents.get(digest)
    if query is not None:
        if digest_of(query) != digest:
            raise Refusal(
                400,
                DOCUMENT_HASH_MISMATCH,
                f"The query's SHA-256 is not the one sent ({SHA256_PREFIX}{digest}).",
            )
        if trusted is None and documents.only:
            raise Refusal(
                400, DOCUMENT_NOT_TRUSTED, f"{SHA256_PREFIX}{digest} is not a trusted document."
            )
        return Resolved(query, trusted)
    if trusted is None:
        # Apollo's clients answer this code by sending the text (where that is allowed).
        raise Refusal(
            400, PERSISTED_QUERY_NOT_FOUND, f"No trusted document is {SHA256_PREFIX}{digest}."
        )
    return Resolved(trusted.text, trusted)


async def sent_document_id(adapter: Any) -> object:
    """The request's `documentId` (ABSENT without one), from Strawberry's request
    adapter: a query parameter of a GET, a member of a JSON body (read again from the
    body Starlette keeps: Strawberry's reading drops it). A multipart upload names its
    document by its text."""
    if adapter.method == "GET":
        return adapter.query_params.get("documentId", ABSENT)
    if "application/json" not in parse_content_type(adapter.content_type or "")[0]:
        return ABSENT
    body = await adapter.get_body()
    if b"documentId" not in body and b"\\u" not in body:
        return ABSENT  # the key is not there, even escaped: no need to parse it again
    # The standard library's parser, as the edge's and Strawberry's: orjson refuses lone
    # surrogates (`\ud800`), which those let through to their own codes.
    parsed = json.loads(body)
    return parsed.get("documentId", ABSENT) if isinstance(parsed, dict) else ABSENT


def _named_digest(document_id: object, extensions: Mapping[str, Any] | None) -> str | None:
    """The digest the request names by `documentId` or Apollo's persistedQuery
    extension; None when it names none. A name that is there but malformed is refused;
    an id of another scheme (a custom id, `x-...:`) names no document of ours."""
    persisted = extensions.get("persistedQuery") if extensions else None
    if document_id is ABSENT or document_id is None:
        if persisted is None:
            return None
        return _apollo_digest(persisted)
    if persisted is not None:
        raise Refusal(400, BAD_REQUEST, "Send documentId or extensions.persistedQuery, not both.")
    if not isinstance(document_id, str) or not document_id:
        raise Refusal(400, BAD_REQUEST, "documentId must be a non-empty string.")
    digest = digest_in(document_id)
    if digest is None:
        raise Refusal(
            400,
            PERSISTED_QUERY_NOT_FOUND,
            f"No trusted document has this id; ids are {SHA256_PREFIX}<64 lower-case hex>.",
        )
    return digest


def _apollo_digest(persisted: object) -> str:
    if (
        not isinstance(persisted, dict)
        or persisted.get("version") != 1
        or not isinstance(persisted.get("sha256Hash"), str)
        or _HEX_DIGEST.fullmatch(persisted["sha256Hash"]) is None
    ):
        raise Refusal(
            400,
            BAD_REQUEST,
            "extensions.persistedQuery must be {version: 1, sha256Hash: <64 lower-case hex>}.",
        )
    digest: str = persisted["sha256Hash"]
    return digest
