"""``GET /$discovery/rest?version=v1alpha1``: a Google API discovery document whose ``rootUrl`` is us.

Google's own client (``googleapiclient.discovery.build("commentanalyzer", "v1alpha1",
discoveryServiceUrl="https://moderation.example/$discovery/rest?version=v1alpha1", ...)``) builds its
``comments().analyze()`` / ``suggestscore()`` methods from it, so a program written for Perspective works by
changing that URL and the key.  The ``schemas`` are generated from the Structs in
:mod:`moderation.compat.perspective_shapes`, the same declarations the handlers decode and encode with.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from aiohttp import web

from moderation.compat import perspective_shapes as shapes
from moderation.compat.google_errors import GoogleError, render
from moderation.core import keys

VERSION = "v1alpha1"
REQUEST_SCHEMAS = (shapes.AnalyzeCommentRequest, shapes.AnalyzeCommentResponse,
                   shapes.SuggestCommentScoreRequest, shapes.SuggestCommentScoreResponse)


def _type(t: msgspec.inspect.Type) -> dict[str, Any]:
    if isinstance(t, msgspec.inspect.UnionType):
        inner = [x for x in t.types if not isinstance(x, msgspec.inspect.NoneType)]
        return _type(inner[0]) if len(inner) == 1 else {"type": "any"}
    if isinstance(t, msgspec.inspect.StructType):
        return {"$ref": t.cls.__name__}
    if isinstance(t, msgspec.inspect.StrType):
        return {"type": "string"}
    if isinstance(t, msgspec.inspect.BoolType):
        return {"type": "boolean"}
    if isinstance(t, msgspec.inspect.FloatType):
        return {"type": "number", "format": "float"}
    if isinstance(t, msgspec.inspect.IntType):
        return {"type": "integer", "format": "int32"}
    if isinstance(t, msgspec.inspect.LiteralType):
        return {"type": "string", "enum": [str(v) for v in t.values]}
    if isinstance(t, msgspec.inspect.ListType):
        return {"type": "array", "items": _type(t.item_type)}
    if isinstance(t, msgspec.inspect.DictType):
        return {"type": "object", "additionalProperties": _type(t.value_type)}
    return {"type": "any"}


def _schemas() -> dict[str, Any]:
    out: dict[str, Any] = {}
    pending = [msgspec.inspect.type_info(cls) for cls in REQUEST_SCHEMAS]
    while pending:
        info = pending.pop()
        assert isinstance(info, msgspec.inspect.StructType)
        name = info.cls.__name__
        if name in out:
            continue
        props: dict[str, Any] = {}
        for f in info.fields:
            props[f.encode_name] = _type(f.type)
            pending.extend(_structs_in(f.type))
        out[name] = {"id": name, "type": "object", "description": (info.cls.__doc__ or "").strip(),
                     "properties": props}
    return dict(sorted(out.items()))


def _structs_in(t: msgspec.inspect.Type) -> list[msgspec.inspect.StructType]:
    if isinstance(t, msgspec.inspect.StructType):
        return [t]
    if isinstance(t, msgspec.inspect.UnionType):
        return [s for x in t.types for s in _structs_in(x)]
    if isinstance(t, msgspec.inspect.ListType):
        return _structs_in(t.item_type)
    if isinstance(t, msgspec.inspect.DictType):
        return _structs_in(t.value_type)
    return []


def _method(name: str, request: str, response: str, description: str) -> dict[str, Any]:
    return {"id": f"commentanalyzer.comments.{name}", "path": f"{VERSION}/comments:{name}",
            "flatPath": f"{VERSION}/comments:{name}", "httpMethod": "POST", "description": description,
            "parameters": {}, "parameterOrder": [], "request": {"$ref": request}, "response": {"$ref": response}}


_QUERY = {"location": "query", "type": "string"}
_STATIC: dict[str, Any] = {
    "kind": "discovery#restDescription",
    "discoveryVersion": "v1",
    "id": f"commentanalyzer:{VERSION}",
    "name": "commentanalyzer",
    "canonicalName": "Comment Analyzer",
    "version": VERSION,
    "title": "Perspective Comment Analyzer API (served by moderation, a self-hosted classifier)",
    "description": "Perspective's comments:analyze and comments:suggestscore, answered by this service's own "
                   "classifier. Keys come from `moderation api-key create NAME`.",
    "protocol": "rest",
    "servicePath": "",
    "basePath": "",
    "batchPath": "batch",
    "version_module": True,
    "parameters": {
        "key": {**_QUERY, "description": "API key (moderation api-key create NAME)."},
        "alt": {**_QUERY, "default": "json", "enum": ["json"], "description": "Data format for response."},
        "prettyPrint": {"location": "query", "type": "boolean", "default": "true",
                        "description": "Accepted; answers are compact JSON."},
        "fields": {**_QUERY, "description": "Accepted, ignored."},
        "quotaUser": {**_QUERY, "description": "Accepted, ignored."},
        "$.xgafv": {**_QUERY, "enum": ["1", "2"], "description": "Accepted, ignored."},
    },
    "resources": {"comments": {"methods": {
        "analyze": _method("analyze", "AnalyzeCommentRequest", "AnalyzeCommentResponse",
                           "Analyzes the provided text and returns scores for requested attributes."),
        "suggestscore": _method("suggestscore", "SuggestCommentScoreRequest", "SuggestCommentScoreResponse",
                                "Suggest comment scores as training data (stored as a label)."),
    }}},
    "schemas": _schemas(),
}


def document(root_url: str) -> dict[str, Any]:
    root = root_url.rstrip("/") + "/"
    return {**_STATIC, "rootUrl": root, "baseUrl": root}


def public_root(request: web.Request) -> str:
    """Our origin as the caller sees it: behind a trusted proxy, its X-Forwarded-Proto/-Host."""
    scheme, host = request.scheme, request.host
    if request.app[keys.CONFIG].trusted_proxy_header:
        scheme = request.headers.get("X-Forwarded-Proto", scheme).split(",")[0].strip() or scheme
        host = request.headers.get("X-Forwarded-Host", host).split(",")[0].strip() or host
    return f"{scheme}://{host}/"


async def discovery_rest(request: web.Request) -> web.Response:
    version = request.query.get("version", VERSION)
    if version != VERSION:
        return render(GoogleError("perspective-not-found", f"Discovery document not found for API service "
                                  f"commentanalyzer, version {version[:40]}: this service has {VERSION}."))
    return web.Response(text=json.dumps(document(public_root(request))), content_type="application/json")
