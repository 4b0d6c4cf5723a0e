"""Which document a request runs (gateway.trusted_documents.resolve), what a manifest
holds (gateway.document_manifest), and the media type an Accept header chooses
(gateway.graphql_response)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.document_manifest import check_manifest, load_trusted_documents
from gateway.graphql_response import Refusal, request_error_status
from gateway.manifest_file import ManifestError, read_manifest
from gateway.media_types import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, response_media_type
from gateway.settings import Settings, SettingsError
from gateway.trusted_documents import TrustedDocument, TrustedDocuments, resolve
from schema.app_schema import schema
from schema.request_limits import RequestLimits

VIEWER = "query Viewer { viewer { credential } }"
OTHER = "{ viewer { permissions } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def trusted(*texts: str, only: bool = False) -> TrustedDocuments:
    return TrustedDocuments(
        [TrustedDocument(sha(text), text, ("Viewer",)) for text in texts], only=only
    )


def refusal_code(documents: TrustedDocuments, **sent: Any) -> str:
    with pytest.raises(Refusal) as refused:
        resolve(documents, query=sent.pop("query", None), **sent)
    assert refused.value.status == 400
    return refused.value.code


# --- resolve ---------------------------------------------------------------------------------


@pytest.mark.parametrize("named", [f"sha256:{sha(VIEWER)}", sha(VIEWER)])
def test_a_document_id_names_the_trusted_text(named: str) -> None:
    resolved = resolve(trusted(VIEWER), query=None, document_id=named)

    assert resolved.query == VIEWER
    assert resolved.trusted is not None and resolved.trusted.id == f"sha256:{sha(VIEWER)}"


def test_apollos_extension_names_it_too() -> None:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha(VIEWER)}}

    assert resolve(trusted(VIEWER), query=None, extensions=extensions).query == VIEWER


def test_a_text_that_is_trusted_is_known_as_such() -> None:
    assert resolve(trusted(VIEWER), query=VIEWER).trusted is not None
    assert resolve(trusted(VIEWER), query=OTHER).trusted is None
    assert resolve(TrustedDocuments(), query=OTHER).query == OTHER


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        ({"document_id": f"sha256:{sha(OTHER)}"}, "PERSISTED_QUERY_NOT_FOUND"),
        ({"document_id": "x-relay:42"}, "PERSISTED_QUERY_NOT_FOUND"),
        ({"document_id": f"sha256:{sha(VIEWER).upper()}"}, "PERSISTED_QUERY_NOT_FOUND"),
        ({"document_id": 42}, "BAD_REQUEST"),
        ({"document_id": ""}, "BAD_REQUEST"),
        ({"extensions": {"persistedQuery": {"version": 1}}}, "BAD_REQUEST"),
        ({"extensions": {"persistedQuery": "x"}}, "BAD_REQUEST"),
        (
            {"document_id": sha(VIEWER), "extensions": {"persistedQuery": {"version": 1}}},
            "BAD_REQUEST",
        ),
        ({"query": OTHER, "document_id": sha(VIEWER)}, "DOCUMENT_HASH_MISMATCH"),
        (
            {
                "query": OTHER,
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(VIEWER)}},
            },
            "DOCUMENT_HASH_MISMATCH",
        ),
    ],
)
def test_what_names_no_trusted_document_is_refused(sent: dict[str, Any], code: str) -> None:
    assert refusal_code(trusted(VIEWER), **sent) == code


def test_a_text_sent_with_its_own_hash_runs_unless_only_trusted_documents_do() -> None:
    assert resolve(trusted(VIEWER), query=OTHER, document_id=sha(OTHER)).query == OTHER
    code = refusal_code(trusted(VIEWER, only=True), query=OTHER, document_id=sha(OTHER))
    assert code == "DOCUMENT_NOT_TRUSTED"


def test_only_trusted_documents_run_in_the_only_mode() -> None:
    documents = trusted(VIEWER, only=True)

    assert resolve(documents, query=VIEWER).trusted is not None
    assert refusal_code(documents, query=OTHER) == "DOCUMENT_NOT_TRUSTED"
    assert refusal_code(documents, query=VIEWER + "\n") == "DOCUMENT_NOT_TRUSTED"
    assert resolve(documents, query=None).query is None  # Strawberry says: no query


def test_the_operation_name_is_the_documents() -> None:
    two = TrustedDocument("0" * 64, "query A { a } query B { b }", ("A", "B"))
    anonymous = TrustedDocument("1" * 64, "{ a }", (None,))

    assert two.operation_name("B") == "B"
    assert two.operation_name("C") is None
    assert two.operation_name(None) is None  # ambiguous: the operation will not run
    assert anonymous.operation_name(None) is None
    assert TrustedDocument("2" * 64, "query A { a }", ("A",)).operation_name(None) == "A"


# --- manifests -------------------------------------------------------------------------------


def write(tmp_path: Path, manifest: object) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def check(path: Path, *, introspection: bool = True) -> tuple[list[TrustedDocument], list[str]]:
    manifest = read_manifest(path)
    return check_manifest(manifest, schema._schema, RequestLimits(), introspection=introspection)


def test_the_plain_map_and_apollos_manifest_are_read(tmp_path: Path) -> None:
    plain = write(tmp_path, {f"sha256:{sha(VIEWER)}": VIEWER, sha(OTHER): OTHER})
    documents, problems = check(plain)
    assert problems == []
    assert [(d.text, d.operations) for d in documents] == [(VIEWER, ("Viewer",)), (OTHER, (None,))]

    operations = [{"id": sha(VIEWER), "body": VIEWER, "name": "Viewer", "type": "query"}]
    apollo = write(
        tmp_path,
        {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations},
    )
    assert [d.text for d in check(apollo)[0]] == [VIEWER]


def test_every_unfit_document_gets_one_line(tmp_path: Path) -> None:
    broken = "{ viewer { credential }"
    unknown = "{ viewer { nothing } }"
    deep = "{ " + "payments(first: 1) { nodes { invoice { " * 4 + "id" + " } } }" * 4 + " }"
    path = write(
        tmp_path,
        {
            sha(VIEWER): VIEWER,
            sha(OTHER): VIEWER,  # the id of another text
            "md5:abc": OTHER,
            sha(broken): broken,
            sha(unknown): unknown,
            sha(deep): deep,
            sha("x"): 7,
        },
    )

    documents, problems = check(path)

    assert [d.text for d in documents] == [VIEWER]
    assert len(problems) == 6
    assert all("\n" not in problem and problem.startswith(f"{path}: ") for problem in problems)
    assert "does not match the document" in problems[0]
    assert "is not a SHA-256" in problems[1]
    assert "does not parse" in problems[2]
    assert "does not validate: Cannot query field 'nothing'" in problems[3]
    assert "fields deep" in problems[4]
    assert "not a string" in problems[5]


def test_introspection_is_refused_when_the_server_refuses_it(tmp_path: Path) -> None:
    text = "{ __schema { queryType { name } } }"
    path = write(tmp_path, {sha(text): text})

    assert check(path)[1] == []
    assert "Introspection is disabled" in check(path, introspection=False)[1][0]


@pytest.mark.parametrize(
    "content",
    ["not json", "[1, 2]", '{"format": "apollo-persisted-query-manifest", "version": 2}'],
)
def test_what_is_no_manifest_is_one_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content)

    with pytest.raises(ManifestError) as raised:
        check(path)
    assert "\n" not in str(raised.value)


def test_the_server_refuses_a_manifest_with_an_unfit_document(tmp_path: Path) -> None:
    path = write(tmp_path, {sha(VIEWER): VIEWER, sha(OTHER): VIEWER, "x": OTHER})
    settings = Settings(trusted_documents=str(path), trusted_documents_only=True)

    with pytest.raises(ManifestError) as raised:
        load_trusted_documents(settings, schema._schema)

    assert "PAYGRAPH_TRUSTED_DOCUMENTS" in str(raised.value)
    assert "(and 1 more)" in str(raised.value)
    fit = write(tmp_path, {sha(VIEWER): VIEWER})
    documents = load_trusted_documents(
        Settings(trusted_documents=str(fit), trusted_documents_only=True), schema._schema
    )
    assert len(documents) == 1 and documents.only


# --- media types -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, APPLICATION_JSON),
        ("", APPLICATION_JSON),
        ("*/*", APPLICATION_JSON),
        ("text/html", APPLICATION_JSON),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        (f"application/json;q=0.9, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),
        (f"application/json, {GRAPHQL_RESPONSE_JSON};q=0.8", APPLICATION_JSON),
        (f"*/*;q=0.5, {GRAPHQL_RESPONSE_JSON};q=0.6", GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0", APPLICATION_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=nan", APPLICATION_JSON),
        ("Application/GraphQL-Response+JSON", GRAPHQL_RESPONSE_JSON),
    ],
)
def test_the_accept_header_chooses(accept: str | None, chosen: str) -> None:
    assert response_media_type(accept) == chosen


def error(code: str, path: list[str] | None = None) -> dict[str, Any]:
    return {"message": "m", "path": path, "extensions": {"code": code}}


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ({"data": None, "errors": [error("GRAPHQL_VALIDATION_FAILED")] * 2}, 400),
        ({"data": None, "errors": [error("BAD_USER_INPUT")]}, 400),
        ({"data": None, "errors": [error("THROTTLED")]}, 429),
        ({"data": None, "errors": [error("QUERY_TOO_COSTLY")]}, 400),
        ({"data": None, "errors": [error("BAD_USER_INPUT", ["payments"])]}, None),
        ({"data": None, "errors": [error("REQUEST_TIMEOUT")]}, None),
        ({"data": None, "errors": [error("INTERNAL_SERVER_ERROR")]}, None),
        ({"data": {"a": None}, "errors": [error("NOT_FOUND", ["a"])]}, None),
        ({"data": {"a": 1}}, None),
    ],
)
def test_request_errors_have_their_status(answer: dict[str, Any], status: int | None) -> None:
    assert request_error_status(answer) == status


def test_the_only_mode_needs_a_manifest() -> None:
    with pytest.raises(SettingsError, match="PAYGRAPH_TRUSTED_DOCUMENTS_ONLY needs"):
        Settings(trusted_documents_only=True)


def test_an_empty_manifest_in_the_only_mode_runs_nothing() -> None:
    assert refusal_code(TrustedDocuments([], only=True), query=VIEWER) == "DOCUMENT_NOT_TRUSTED"
