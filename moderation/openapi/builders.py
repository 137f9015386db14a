"""Small builders of OpenAPI objects, and ``declared``: the schema of a declared body (msgspec)."""

from __future__ import annotations

from typing import Any

import msgspec

Schema = dict[str, Any]

# Routes described as HTML pages (not JSON APIs): they are listed, but only minimally.
HTML_PREFIXES = ("/moderate", "/demo/")


# ── small builders ─────────────────────────────────────────────────────────────────────────────────
def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    if "type" in schema and isinstance(schema["type"], str):
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Schema], required: list[str] | tuple[str, ...] = (), *,
        additional: bool = True, description: str | None = None) -> Schema:
    out: Schema = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    if not additional:
        out["additionalProperties"] = False
    if description:
        out["description"] = description
    return out


def array(items: Schema, **kw: Any) -> Schema:
    return {"type": "array", "items": items, **kw}


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
N_STR, N_INT, N_TIME = nullable(STR), nullable(INT), nullable(TIME)
ID: Schema = {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}   # review/api.py path_int: ≤ 18 digits
NON_BLANK = r"\S"   # at least one non-whitespace character (the validators strip and refuse empty strings)
PRINTABLE = r"^[^\u0000-\u001f]*[^\s\u0000-\u001f][^\u0000-\u001f]*$"   # no control characters, not blank


def text(max_len: int, *, min_len: int = 1, blank_ok: bool = False, description: str | None = None) -> Schema:
    out: Schema = {"type": "string", "minLength": min_len, "maxLength": max_len}
    if not blank_ok:
        out["pattern"] = NON_BLANK
    if description:
        out["description"] = description
    return out


_DECLARED: dict[str, Schema] = {}   # components generated from the declared shapes while build_spec runs


def declared(shape: Any, name: str | None = None) -> Schema:
    """The JSON Schema of a declared body (a msgspec Struct, see moderation/core/body.py): generated from the
    declaration, its Structs added to ``components.schemas``; ``name`` also names the top schema."""
    (schema,), components = msgspec.json.schema_components([shape], ref_template="#/components/schemas/{name}")
    _DECLARED.update(components)
    if name is None:
        return schema
    _DECLARED[name] = schema
    return ref(name)


def json_body(schema: Schema, *, required: bool = True, description: str | None = None) -> Schema:
    out: Schema = {"required": required, "content": {"application/json": {"schema": schema}}}
    if description:
        out["description"] = description
    return out


def ok(schema: Schema | None, description: str = "OK", *, headers: dict[str, Schema] | None = None,
       media: str = "application/json") -> Schema:
    out: Schema = {"description": description}
    if schema is not None:
        out["content"] = {media: {"schema": schema}}
    if headers:
        out["headers"] = headers
    return out


def links(**targets: tuple[str, str, str]) -> dict[str, Schema]:
    """OpenAPI links: ``name=(operationId, parameter, runtime expression)`` — how an answer feeds the next call."""
    return {name: {"operationId": op_id, "parameters": {param: expr}} for name, (op_id, param, expr) in targets.items()}


def header(name: str) -> Schema:
    return {"$ref": f"#/components/headers/{name}"}


_PROBLEM_RESPONSES = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 410: "Gone",
    413: "PayloadTooLarge", 415: "UnsupportedMediaType", 422: "ValidationFailed", 429: "TooManyRequests",
    500: "InternalError", 503: "ServiceUnavailable",
}
# Every operation can answer these: an unexpected failure, and overload / database unavailability.
ALWAYS = (500, 503)


def problems(*statuses: int) -> dict[str, Schema]:
    return {str(s): {"$ref": f"#/components/responses/{_PROBLEM_RESPONSES[s]}"} for s in (*statuses, *ALWAYS)}


def path_param(name: str, schema: Schema, description: str, example: Any = None) -> Schema:
    out = {"name": name, "in": "path", "required": True, "schema": schema, "description": description}
    if example is not None:
        out["example"] = example
    return out


def query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


MODERATOR = [{"bearerAuth": []}, {"sessionCookie": []}]   # + CSRF for unsafe methods with the cookie
PUBLIC: list[Schema] = []


def op(summary: str, tag: str, responses: dict[str, Schema], *, operation_id: str, description: str | None = None,
       parameters: list[Schema] | None = None, body: Schema | None = None,
       security: list[Schema] | None = None) -> Schema:
    out: Schema = {"operationId": operation_id, "summary": summary, "tags": [tag],
                   "responses": dict(sorted(responses.items()))}
    if description:
        out["description"] = description
    if parameters:
        out["parameters"] = parameters
    if body is not None:
        out["requestBody"] = body
    if security is not None:
        out["security"] = security
    return out


def moderator_errors(*statuses: int, admin: bool = False, unsafe: bool = False) -> dict[str, Schema]:
    """401 always; 403 for admin-only routes and for cookie-authenticated unsafe requests (CSRF)."""
    extra = (401, 403) if (admin or unsafe) else (401,)
    return problems(*sorted({*statuses, *extra}))
