"""Regenerate zoom_openapi_subset.json from Zoom's OpenAPI document.

    python tests/sandbox/data/extract_openapi_subset.py /path/to/zoom-meeting-api-2023.json

The tests never read the full document (a CI clone does not have it); they read the subset this
writes: the 200-response schemas of the endpoints the sandbox serves, with every $ref resolved,
descriptions and examples dropped, and OpenAPI 3.0 turned into JSON Schema where they differ.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

OUT = Path(__file__).with_name("zoom_openapi_subset.json")
ENDPOINTS = (
    ("GET", "/users"),
    ("GET", "/users/{userId}"),
    ("GET", "/users/{userId}/settings"),
    ("GET", "/users/{userId}/meetings"),
    ("GET", "/users/{userId}/webinars"),
    ("GET", "/report/users"),
)
DROP = {"description", "example", "x-enum-descriptions", "title"}


def resolve(node, root):
    """Inline $refs, drop prose, and translate OpenAPI's `nullable` into a JSON Schema type."""
    if isinstance(node, list):
        return [resolve(n, root) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = root
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return resolve(target, root)
    out = {k: resolve(v, root) for k, v in node.items() if k not in DROP | {"nullable", "properties"}}
    if "properties" in node:  # property names are data, never prose to drop
        out["properties"] = {name: resolve(v, root) for name, v in node["properties"].items()}
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def main(spec_path: str) -> None:
    raw = Path(spec_path).read_bytes()
    spec = json.loads(raw)
    schemas = {}
    for method, path in ENDPOINTS:
        schema = spec["paths"][path][method.lower()]["responses"]["200"]["content"]["application/json"]["schema"]
        schemas[f"{method} {path}"] = resolve(schema, spec)
    # The settings response is a oneOf whose branches require nothing, so every object matches
    # all of them and oneOf can never pass; without ?option= Zoom returns the first branch.
    schemas["GET /users/{userId}/settings"] = schemas["GET /users/{userId}/settings"]["oneOf"][0]
    # The 2023 enum of user types lacks 4 ("Unassigned without Meetings Basic"), which Zoom returns
    # today (facts digest 2.2); the sandbox generates it, so the enum is widened.
    schemas["GET /users"]["properties"]["users"]["items"]["properties"]["type"]["enum"].append(4)
    for part in schemas["GET /users/{userId}"]["allOf"]:
        if "type" in part.get("properties", {}):
            part["properties"]["type"]["enum"].append(4)
    doc = {
        "_origin": {
            "document": "Zoom Meeting API, OpenAPI 3.0.0 (2023 edition), zoom-meeting-api-2023.json; a copy of "
            "robomotionio/openapi-specs zoom.json @ 0ab153dc5c2986b8e37286834003358d46c620e6",
            "sha256": hashlib.sha256(raw).hexdigest(),
            "generated_by": "tests/sandbox/data/extract_openapi_subset.py",
            "changes": [
                "200-response schemas only, $refs resolved inline",
                "description, example, title and x-enum-descriptions removed",
                "OpenAPI `nullable: true` turned into a JSON Schema type union with null",
                "GET /users/{userId}/settings: the first oneOf branch (UserSettings), see the script",
                "user `type` enums widened with 4 (facts digest section 2.2)",
            ],
        },
        "schemas": schemas,
    }
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
