"""GitHub's own OpenAPI description (npm `@octokit/openapi`), the reference the fake GitHub API must match.

`make openapi` (a dependency of `make test`) fetches the pinned package with `npm pack` and keeps
`generated/api.github.com.json` under build/openapi/. `Spec.operation(method, path)` finds the documented
operation for a concrete request path; `Spec.check_exchange` says how a request/response pair differs
from it (an empty list when it conforms).

OpenAPI 3.0 schemas are turned into JSON Schema as they are checked: `$ref`s are resolved against the
description and `nullable: true` becomes a `null` alternative.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The package version `make openapi` pins (Makefile: OPENAPI_VERSION).
SPEC_PATH = Path(os.environ.get("GITHUB_OPENAPI", REPO_ROOT / "build" / "openapi" / "api.github.com.json"))
#: Answers GitHub gives on any endpoint without listing them per operation (REST docs, "Troubleshooting
#: the REST API": 401 bad credentials, 403 a missing permission, 404 a resource the token may not see);
#: their bodies are checked against GitHub's `basic-error`.
GENERIC_STATUSES = {"401", "403", "404"}


BASIC_ERROR = {"$ref": "#/components/schemas/basic-error"}


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    spec: dict[str, Any]

    @property
    def parameters(self) -> list[dict[str, Any]]:
        return self.spec.get("parameters", [])


class Spec:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._templates = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), template)
            for template in document["paths"]
        ]

    @classmethod
    @functools.cache
    def load(cls, path: Path = SPEC_PATH) -> Spec:
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} is missing: run `make openapi` (npm pack @octokit/openapi), which `make test` does"
            )
        return cls(json.loads(path.read_text()))

    @property
    def version(self) -> str:
        return str(self.document["info"]["version"])

    def operation(self, method: str, path: str) -> Operation | None:
        matches = [t for pattern, t in self._templates if pattern.match(path)]
        # The most literal template wins (/runners/downloads before /runners/{runner_id}).
        for template in sorted(matches, key=lambda t: t.count("{")):
            operation = self.document["paths"][template].get(method.lower())
            if operation is not None:
                return Operation(method.upper(), template, operation)
        return None

    def resolve(self, node: Any) -> Any:
        """`node` with every `$ref` replaced by its target (recursively), nullable made JSON Schema."""
        return _to_json_schema(self.document, node, ())

    def check_exchange(
        self, method: str, path: str, query: dict[str, str], body: Any, status: int, answer: Any
    ) -> list[str]:
        operation = self.operation(method, path)
        if operation is None:
            return [f"{method} {path}: no such operation in GitHub's API description"]
        where = f"{method} {operation.template}"
        problems: list[str] = []
        names = {self.resolve(p)["name"] for p in operation.parameters if self.resolve(p).get("in") == "query"}
        problems += [f"{where}: undocumented query parameter {key!r}" for key in query if key not in names]
        request_body = operation.spec.get("requestBody")
        if body is not None:
            schema = _json_schema(self, request_body)
            if schema is None:
                problems.append(f"{where}: sends a body the operation does not take")
            else:
                problems += [f"{where} request: {e}" for e in _errors(schema, body)]
        responses = operation.spec["responses"]
        code = str(status)
        if code not in responses and code not in GENERIC_STATUSES:
            problems.append(f"{where}: answers {status}, documented: {sorted(responses)}")
        else:
            declared = responses.get(code) or {"content": {"application/json": {"schema": BASIC_ERROR}}}
            schema = _json_schema(self, self.resolve(declared))
            if schema is not None:
                problems += [f"{where} {status}: {e}" for e in _errors(schema, answer)]
            elif answer not in (None, b"", ""):
                problems.append(f"{where} {status}: answers a body where GitHub documents none")
        return problems


def _json_schema(spec: Spec, holder: Any) -> dict[str, Any] | None:
    if not holder:
        return None
    content = spec.resolve(holder).get("content", {})
    media = content.get("application/json")
    return media.get("schema") if media else None


def _errors(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = jsonschema.Draft4Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in validator.iter_errors(instance)]


def _to_json_schema(document: dict[str, Any], node: Any, seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_to_json_schema(document, item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in seen:  # a recursive schema: accept anything below the cycle
            return {}
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return _to_json_schema(document, target, (*seen, ref))
    converted = {key: _to_json_schema(document, value, seen) for key, value in node.items()}
    if converted.pop("nullable", False):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted
