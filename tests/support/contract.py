"""Replies checked against the contract `/openapi.json` publishes for them.

`Contract(document).check(method, path_template, response)` finds the reply the document
publishes for that route and status and validates the body against its schema with
`jsonschema` (OpenAPI 3.1 schemas are JSON Schema 2020-12). A status the route does not
publish, a media type it does not publish for that status, a header it publishes for
that reply but the reply lacks, or a body its schema refuses is a `ContractError`. Every
check is recorded, so a suite can say which published replies it has seen.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

import httpx
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError


class ContractError(AssertionError):
    pass


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.components = document.get("components", {})
        self.seen: set[tuple[str, str, int]] = set()
        self._validators: dict[str, Draft202012Validator] = {}

    def routes(self) -> set[tuple[str, str]]:
        return {
            (method.upper(), path)
            for path, operations in self.document["paths"].items()
            for method in operations
        }

    def route_for(self, method: str, path: str) -> str | None:
        """The published path template a request path reaches (as the server decodes
        it), or None when it reaches no published route of that method."""
        decoded = unquote(path)
        for template, operations in self.document["paths"].items():
            pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))
            if re.fullmatch(pattern, decoded) and method.lower() in operations:
                return str(template)
        return None

    def published(self, method: str, template: str) -> set[int]:
        return {int(code) for code in self._operation(method, template)["responses"]}

    def check(self, method: str, template: str, response: httpx.Response) -> None:
        status = response.status_code
        media = response.headers.get("content-type", "").split(";")[0].strip()
        where = f"{method} {template} -> {status} {response.text[:300]!r}"
        replies = self._operation(method, template)["responses"]
        reply = replies.get(str(status))
        if reply is None:
            raise ContractError(
                f"no published reply for {status} (published {sorted(replies)}): {where}"
            )
        content = reply.get("content", {})
        if not content and not response.content:
            self.seen.add((method.upper(), template, status))  # published without a body
            return
        if media not in content:
            raise ContractError(
                f"{media!r} is not published for {status} ({sorted(content)}): {where}"
            )
        missing = [name for name in reply.get("headers", {}) if name not in response.headers]
        if missing:
            raise ContractError(f"published headers {missing} are missing: {where}")
        schema = content[media].get("schema", {})
        body: object = response.text
        if media == "application/json":
            body = json.loads(response.content)
        try:
            self._validator(schema).validate(body)
        except ValidationError as err:
            path = "/".join(str(p) for p in err.absolute_path) or "(body)"
            raise ContractError(f"{path}: {err.message}: {where}") from None
        self.seen.add((method.upper(), template, status))

    def _operation(self, method: str, template: str) -> dict[str, Any]:
        operation = self.document["paths"].get(template, {}).get(method.lower())
        if operation is None:
            raise ContractError(f"{method} {template} is not a published route")
        return operation  # type: ignore[no-any-return]

    def _validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            # References are to "#/components/...": resolve them against a root that
            # carries the document's components beside the schema itself.
            root = {**schema, "components": self.components}
            self._validators[key] = Draft202012Validator(root)
        return self._validators[key]
