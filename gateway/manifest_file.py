"""A manifest of trusted documents as a file (gateway.document_manifest checks its
documents against the schema), read apart from the schema so that `paygraph documents
check` refuses a file that is no manifest before loading it.

Shapes read (JSON):
- a map of id to document text, `{"sha256:<hex>": "query ...", ...}`; the id may be the
  64 hex alone, as GraphQL Code Generator's client preset writes `persisted-documents.json`
  with `hashAlgorithm: "sha256"`;
- Apollo's persisted query manifest, `{"format": "apollo-persisted-query-manifest",
  "version": 1, "operations": [{"id": "<hex>", "body": "query ...", ...}]}`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gateway.environment import SettingsError

APOLLO_FORMAT = "apollo-persisted-query-manifest"


class ManifestError(SettingsError):
    """The manifest cannot be read, or one of its documents is not fit to run."""


@dataclass(frozen=True)
class Manifest:
    """A manifest's (id, text) pairs, in its order, and the file they were read from."""

    path: Path
    entries: list[tuple[object, object]]


def read_manifest(path: Path) -> Manifest:
    """The manifest at `path`, whatever its shape; raises ManifestError when it is no
    manifest at all."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ManifestError(f"{path}: cannot be read ({error.strerror or error})") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise ManifestError(f"{path}: is not JSON ({error})") from None
    if not isinstance(manifest, dict):
        raise ManifestError(f"{path}: is not a JSON object of id -> document")
    if manifest.get("format") == APOLLO_FORMAT:
        operations = manifest.get("operations")
        if manifest.get("version") != 1 or not isinstance(operations, list):
            raise ManifestError(f"{path}: an {APOLLO_FORMAT} needs version 1 and operations")
        entries = [
            (item.get("id"), item.get("body")) if isinstance(item, dict) else (None, None)
            for item in operations
        ]
        return Manifest(path, entries)
    return Manifest(path, list(manifest.items()))
