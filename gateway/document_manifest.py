"""A manifest of trusted documents (gateway.trusted_documents), read (gateway.manifest_file)
and checked against the schema: by the server at start-up (PAYGRAPH_TRUSTED_DOCUMENTS)
and by `paygraph documents check MANIFEST`.

Every document must be named by the SHA-256 of its text, parse within the token limit
and validate against the schema with the server's own rules (depth, aliases, and
introspection when it is off)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graphql import (
    ASTValidationRule,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)

from gateway.manifest_file import Manifest, ManifestError, read_manifest
from gateway.settings import Settings
from gateway.trusted_documents import TrustedDocument, TrustedDocuments, digest_in, digest_of
from schema.app_schema import IntrospectionDisabledRule
from schema.limits import limit_rules, parse_options
from schema.request_limits import RequestLimits


def check_manifest(
    manifest: Manifest, schema: GraphQLSchema, limits: RequestLimits, *, introspection: bool
) -> tuple[list[TrustedDocument], list[str]]:
    """The manifest's documents fit to run, and one line for each that is not."""
    rules = [*specified_rules, *limit_rules(limits)]
    if not introspection:
        rules.append(IntrospectionDisabledRule)
    documents: list[TrustedDocument] = []
    problems: list[str] = []
    for number, (document_id, text) in enumerate(manifest.entries, start=1):
        name = document_id if isinstance(document_id, str) else f"entry {number}"
        checked = _checked(document_id, text, schema, rules, limits)
        if isinstance(checked, str):
            problems.append(f"{manifest.path}: {name}: {checked}")
        else:
            documents.append(checked)
    return documents, problems


def load_trusted_documents(settings: Settings, schema: GraphQLSchema) -> TrustedDocuments:
    """The server's trusted documents (none without PAYGRAPH_TRUSTED_DOCUMENTS); raises
    ManifestError, naming the first problem, unless every one is fit to run."""
    if settings.trusted_documents is None:
        return TrustedDocuments()
    path = Path(settings.trusted_documents)
    documents, problems = check_manifest(
        read_manifest(path), schema, settings.limits, introspection=settings.introspection
    )
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ManifestError(
            f"PAYGRAPH_TRUSTED_DOCUMENTS: {problems[0]}{more}; "
            f"`paygraph documents check {path}` lists them"
        )
    return TrustedDocuments(documents, only=settings.trusted_documents_only)


def _checked(
    document_id: object,
    text: object,
    schema: GraphQLSchema,
    rules: Sequence[type[ASTValidationRule]],
    limits: RequestLimits,
) -> TrustedDocument | str:
    """The document, or what is wrong with it (one line)."""
    if not isinstance(document_id, str) or (digest := digest_in(document_id)) is None:
        return "the id is not a SHA-256 (sha256:<64 lower-case hex>, or the hex alone)"
    if not isinstance(text, str):
        return "the document is not a string"
    if digest_of(text) != digest:
        return f"the id does not match the document, whose SHA-256 is {digest_of(text)}"
    try:
        document = parse(text, **parse_options(limits.max_tokens))
    except GraphQLError as error:
        return f"does not parse: {_one_line(error)}"
    errors = validate(schema, document, rules)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"does not validate: {_one_line(errors[0])}{more}"
    operations = tuple(
        definition.name.value if definition.name else None
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    )
    return TrustedDocument(digest, text, operations)


def _one_line(error: Any) -> str:
    return " ".join(str(error.message).split())
