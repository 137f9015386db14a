"""The one JSON body reader: every JSON route decodes and validates its body here, against a declared shape.

A shape is a ``msgspec.Struct`` whose fields carry their limits (``Annotated[str, Meta(max_length=...)]``);
the same declaration produces the OpenAPI schema (``moderation.openapi``).  Reading a body checks, in order:

* the media type: ``application/json`` or ``*+json`` (``lenient=True`` also takes no Content-Type and
  ``application/octet-stream``, as the CMS webhook and the moderators' API always did) — else 415;
* the size: at most ``max_bytes`` (the app's ``MODERATION_MAX_BODY_BYTES`` already answers 413 earlier);
* the text: UTF-8 only (no BOM, no UTF-16), nesting at most ``MAX_DEPTH`` arrays/objects deep, no duplicate
  keys, integers of at most ``MAX_INT_DIGITS`` digits, finite numbers, no NaN/Infinity, no NUL characters
  and no unpaired surrogates in strings — each a 400 ``malformed-json`` naming the field where it can;
* the shape: types, required fields, lengths, enums, ranges — a 422 ``validation-error`` whose ``errors``
  name EVERY offending field (``data.author.name``, ``ids[3]``), with the messages the hand-written
  validators used ("is required", "must be a string", "is longer than 200 characters", ...).

Decoding uses the stdlib's C scanner (for the duplicate-key and number hooks) and msgspec's C converter
(for the shape); the error path, which walks the shape field by field, runs only for bad input.
"""

from __future__ import annotations

import json
import math
import re
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar, Union

import msgspec
from aiohttp import web

from moderation.core.problems import Problem, validation_error

T = TypeVar("T")

MAX_DEPTH = 32          # arrays/objects inside each other; our deepest shape has 4
MAX_INT_DIGITS = 20     # a 64-bit integer has at most 19 digits (plus a sign)
JSON_MEDIA: tuple[str, ...] = ("application/json",)
LENIENT_MEDIA: tuple[str, ...] = ("application/json", "application/octet-stream", "")

# Messages for the patterns shapes use (a regex is no message for a person).
PATTERN_MESSAGES: dict[str, str] = {r"\S": "must not be empty"}

_SPACED_KEY = re.compile(rb'"[ \t\r\n]+:')  # whitespace before a colon: the only way to fool the key count
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # a JSON string (unrolled: fast on long texts)
_KEEP_BRACKETS = bytes(range(256)).translate(None, b"[]{}")  # every byte but the brackets
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class BodyError(ValueError):
    """Malformed JSON (before any shape is applied): 400 ``malformed-json``."""

    def __init__(self, message: str, field: str = "(body)") -> None:
        super().__init__(message)
        self.field = field


# ── decoding ───────────────────────────────────────────────────────────────────────────────────────
def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise BodyError(f"duplicate key {key[:64]!r} in an object", key[:64])
            seen.add(key)
    return obj


def _int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise BodyError(f"a number with {len(text)} digits is out of range")
    return int(text)


def _is_infinite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _path_of_value(value: Any, test: Callable[[Any], bool], path: str = "") -> str | None:
    """The path of the first scalar in ``value`` for which ``test`` holds."""
    if isinstance(value, dict):
        for key, item in value.items():
            found = _path_of_value(item, test, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _path_of_value(item, test, f"{path}[{i}]")
            if found:
                return found
    elif test(value):
        return path or "(body)"
    return None


def _constant(name: str) -> Any:
    raise BodyError(f"{name} is not JSON")


def _check_depth(raw: bytes) -> None:
    """Refuse nesting deeper than MAX_DEPTH without recursing: strings removed, only brackets kept, then
    one innermost level peeled per pass (each pass is C-speed; at most MAX_DEPTH of them)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return
    brackets = _STRING.sub(b"", raw).translate(None, _KEEP_BRACKETS)
    for _ in range(MAX_DEPTH):
        shorter = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if shorter == brackets:
            return  # nothing left to peel (or unbalanced: the decoder reports that)
        brackets = shorter
    if brackets.replace(b"[]", b"").replace(b"{}", b"") != brackets:
        raise BodyError(f"arrays and objects are nested too deeply (more than {MAX_DEPTH} levels)")


def _path_of(value: Any, test: Callable[[str], bool], path: str = "") -> str | None:
    """The path of the first string (key or value) in ``value`` for which ``test`` holds."""
    if isinstance(value, str):
        return path or "(body)" if test(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if test(key):
                return sub
            found = _path_of(item, test, sub)
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _path_of(item, test, f"{path}[{i}]")
            if found:
                return found
    return None


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def loads(raw: bytes) -> Any:
    """Parse a JSON text with the limits above; raises BodyError.

    Fast path: msgspec's C decoder (it refuses malformed JSON, invalid UTF-8, NaN, overflowing floats and
    unpaired surrogates by itself), then C-speed counts.  Every key in the text ends in ``":`` unless
    whitespace precedes its colon; an escaped quote before a colon inside a string only adds to the count.
    So with no spaced key, as many ``":`` as keys in the result means no key was repeated.  Anything
    suspect (also an escaped NUL) takes the slow path, which names the problem and the field.
    """
    _check_depth(raw)
    try:
        value = msgspec.json.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return _loads_checked(raw)
    if b"\\u0000" in raw or _SPACED_KEY.search(raw) or raw.count(b'":') != _count(value):
        return _loads_checked(raw)
    return value


def _count(value: Any) -> int:
    """The keys in ``value``'s objects; -1 when an integer is too long (so that the slow path runs)."""
    if isinstance(value, dict):
        n = len(value)
        for item in value.values():
            if isinstance(item, dict | list | int) and not isinstance(item, bool):
                sub = _count(item)
                if sub < 0:
                    return -1
                n += sub
        return n
    if isinstance(value, list):
        n = 0
        for item in value:
            if isinstance(item, dict | list | int) and not isinstance(item, bool):
                sub = _count(item)
                if sub < 0:
                    return -1
                n += sub
        return n
    if isinstance(value, int) and not -10**MAX_INT_DIGITS < value < 10**MAX_INT_DIGITS:
        return -1
    return 0


def _loads_checked(raw: bytes) -> Any:
    """The stdlib's scanner with hooks: slower, but it says what is wrong and where."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(f"the body is not UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        raise BodyError("the body starts with a byte order mark")
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_int=_int, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise BodyError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:  # a depth the pre-check let through cannot happen, but never a 500
        raise BodyError("arrays and objects are nested too deeply") from None
    if field := _path_of_value(value, _is_infinite):
        raise BodyError("must be a finite number (this one is out of range)", field)
    if "\\u0000" in text:
        field = _path_of(value, lambda s: "\x00" in s)
        if field:
            raise BodyError("must not contain NUL characters", field)
    if _SURROGATE_ESCAPE.search(raw):
        field = _path_of(value, _has_surrogate)
        if field:
            raise BodyError("must not contain unpaired surrogates (invalid Unicode)", field)
    return value


# ── validation ─────────────────────────────────────────────────────────────────────────────────────
def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _meta(tp: Any) -> tuple[Any, dict[str, Any]]:
    """(bare type, merged Meta constraints) of a possibly Annotated type."""
    constraints: dict[str, Any] = {}
    while typing.get_origin(tp) is typing.Annotated:
        base, *extras = typing.get_args(tp)
        for extra in extras:
            if isinstance(extra, msgspec.Meta):
                for name in ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern", "tz"):
                    if getattr(extra, name) is not None:
                        constraints[name] = getattr(extra, name)
        tp = base
    return tp, constraints


def _union_members(tp: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(tp) in (Union, types.UnionType):
        return typing.get_args(tp)
    return None


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def _kind(tp: Any) -> str:
    if _is_struct(tp) or typing.get_origin(tp) is dict or tp is dict:
        return "an object"
    if typing.get_origin(tp) is list or tp is list:
        return "an array"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(tp, "valid")


def _describe(tp: Any, value: Any, fallback: str) -> str:
    """The message for ``value`` not matching the (non-Struct) type ``tp``."""
    bare, c = _meta(tp)
    if typing.get_origin(bare) is typing.Literal:
        options = typing.get_args(bare)
        return "must be one of " + ", ".join(str(o) for o in options)
    if bare is float and isinstance(value, int) and not isinstance(value, bool):
        bare = int  # an int is a fine number; the failure is a range
    if bare is str:
        if not isinstance(value, str):
            return "must be a string"
        if "max_length" in c and len(value) > c["max_length"]:
            return f"is longer than {c['max_length']} characters"
        if "min_length" in c and len(value) < c["min_length"]:
            return "must not be empty" if c["min_length"] == 1 else f"is shorter than {c['min_length']} characters"
        if "pattern" in c:
            return PATTERN_MESSAGES.get(c["pattern"], f"must match {c['pattern']}")
    if bare in (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float) or (bare is int and isinstance(value, float)):
            return f"must be {_kind(bare)}"
        lo = c.get("ge", c.get("gt"))
        hi = c.get("le", c.get("lt"))
        if lo is not None and hi is not None:
            return f"must be between {lo:g} and {hi:g}"
        if lo is not None:
            return f"must be at least {lo:g}" if "ge" in c else f"must be greater than {lo:g}"
        if hi is not None:
            return f"must be at most {hi:g}"
    if typing.get_origin(bare) is list:
        if not isinstance(value, list):
            return "must be an array"
        if "max_length" in c and len(value) > c["max_length"]:
            return f"has more than {c['max_length']} items"
        if "min_length" in c and len(value) < c["min_length"]:
            return f"must have at least {c['min_length']} item(s)"
    if bare is bool and not isinstance(value, bool):
        return "must be true or false"
    if _is_struct(bare) or typing.get_origin(bare) is dict:
        return "must be an object"
    message = fallback.split(" - at `", 1)[0]
    return {"Invalid RFC3339 encoded datetime": "must be an RFC 3339 timestamp, e.g. 2026-11-25T12:00:00Z",
            "Expected `datetime` with a timezone component": "must include a time zone offset (RFC 3339)",
            }.get(message, message[0].lower() + message[1:] if message else "is invalid")


def _struct_errors(tp: type[msgspec.Struct], value: Any, path: str) -> list[dict[str, str]]:
    if not isinstance(value, dict):
        return [{"field": path or "(body)", "message": "must be a JSON object" if not path else "must be an object"}]
    errors: list[dict[str, str]] = []
    config = tp.__struct_config__
    if config.tag_field is not None and value.get(config.tag_field) != config.tag:
        return [{"field": _join(path, config.tag_field), "message": f"must be {config.tag}"}]
    for field in msgspec.structs.fields(tp):
        if field.encode_name == config.tag_field:
            continue
        sub = _join(path, field.encode_name)
        if field.encode_name not in value:
            if field.required:
                errors.append({"field": sub, "message": "is required"})
            continue
        found = field_errors(field.type, value[field.encode_name], sub)
        check = getattr(tp, "checks", {}).get(field.name)
        if not found and check is not None and value[field.encode_name] is not None:
            message = check(value[field.encode_name])
            found = [{"field": sub, "message": message}] if message else []
        errors.extend(found)
    if config.forbid_unknown_fields:
        names = {f.encode_name for f in msgspec.structs.fields(tp)}
        errors.extend({"field": _join(path, k), "message": "is not a known field"} for k in value if k not in names)
    if not errors:  # every field is fine alone: a check across fields (__post_init__) failed
        try:
            msgspec.convert(value, tp, strict=True)
        except msgspec.ValidationError as exc:
            errors.append(_post_init_error(str(exc), path))
    return errors


def _post_init_error(text: str, path: str) -> dict[str, str]:
    """``__post_init__`` raises ``ValueError("name: message")`` to blame one field."""
    message = text.split(" - at `", 1)[0]
    name, sep, rest = message.partition(": ")
    if sep and re.fullmatch(r"[a-z_][a-z0-9_.\[\]]*", name):
        return {"field": _join(path, name), "message": rest}
    return {"field": path or "(body)", "message": message}


def field_errors(tp: Any, value: Any, path: str) -> list[dict[str, str]]:
    """Every error of ``value`` against ``tp``, each naming its field (only called for bad input)."""
    bare, _ = _meta(tp)
    members = _union_members(bare)
    if members is not None:
        if value is None and type(None) in members:
            return []
        structs = [m for m in members if _is_struct(m)]
        others = [m for m in members if m is not type(None)]
        if structs and len(structs) == len(others) and not isinstance(value, dict):
            return [{"field": path or "(body)", "message": "must be an object" if path else "must be a JSON object"}]
        if structs and isinstance(value, dict):
            tag_fields = {s.__struct_config__.tag_field for s in structs}
            if len(structs) == 1 or None in tag_fields:
                return _struct_errors(structs[0], value, path)
            (tag_field,) = tag_fields
            by_tag = {s.__struct_config__.tag: s for s in structs}
            chosen = by_tag.get(value.get(tag_field))
            if chosen is None:
                return [{"field": _join(path, tag_field), "message": "must be one of " + ", ".join(map(str, by_tag))}]
            return _struct_errors(chosen, value, path)
        if len(others) == 1:
            return field_errors(others[0], value, path)
    elif _is_struct(bare):
        return _struct_errors(bare, value, path)
    elif typing.get_origin(bare) is list and isinstance(value, list):
        try:
            msgspec.convert(value, tp, strict=True)
            return []
        except msgspec.ValidationError as exc:
            whole = _describe(tp, value, str(exc))
            if whole.startswith(("has more", "must have")):
                return [{"field": path, "message": whole}]
        (item_type,) = typing.get_args(bare) or (Any,)
        return [e for i, item in enumerate(value) for e in field_errors(item_type, item, _join(path, i))]
    try:
        msgspec.convert(value, tp, strict=True)
        return []
    except msgspec.ValidationError as exc:
        return [{"field": path or "(body)", "message": _describe(tp, value, str(exc))}]


class ShapeError(ValueError):
    """A body that is JSON but does not fit its shape; ``errors`` names every offending field."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}


def _decoder(shape: Any) -> msgspec.json.Decoder[Any]:
    decoder = _DECODERS.get(shape)
    if decoder is None:
        decoder = _DECODERS[shape] = msgspec.json.Decoder(shape)
    return decoder


def fit(value: Any, shape: Any, *, field_prefix: str = "", raw: bytes | None = None) -> Any:
    """``value`` (decoded JSON) as ``shape``, or ShapeError.  With ``raw`` (the same JSON, already checked by
    ``loads``), msgspec decodes the bytes straight into the shape: faster than converting the objects."""
    try:
        if raw is not None:
            return _decoder(shape).decode(raw)
        return msgspec.convert(value, shape, strict=True)
    except msgspec.ValidationError as exc:
        raise ShapeError(field_errors(shape, value, field_prefix)
                         or [{"field": field_prefix or "(body)", "message": str(exc)}]) from None


def parse(raw: bytes, shape: Any) -> Any:
    """A body as ``shape`` with every limit, raising BodyError or ShapeError: for routes that answer errors in
    a protocol's own shape (Perspective's Google errors, Turnstile's ``error-codes``) instead of problem+json."""
    return fit(loads(raw), shape, raw=raw)


def convert(value: Any, shape: type[T], *, field_prefix: str = "", raw: bytes | None = None) -> T:
    """``value`` (decoded JSON, or its checked ``raw`` bytes) as ``shape``; a 422 naming every offending
    field otherwise."""
    try:
        return fit(value, shape, field_prefix=field_prefix, raw=raw)
    except ShapeError as exc:
        raise validation_error(exc.errors) from None


def loads_body(raw: bytes) -> Any:
    """``loads`` for a request body: a 400 ``malformed-json`` problem naming the field on failure."""
    try:
        return loads(raw)
    except BodyError as exc:
        raise Problem("malformed-json", f"The body is not valid JSON: {exc}",
                      errors=[{"field": exc.field, "message": str(exc)}]) from None


def decode(raw: bytes, shape: type[T], *, required: bool = True) -> T:
    """A request body (bytes) as ``shape``: 400 for malformed JSON, 422 for a body that does not fit."""
    if not raw.strip():
        if required:
            raise validation_error([{"field": "(body)", "message": "a JSON object is required"}])
        raw = b"{}"
    return convert(loads_body(raw), shape, raw=raw)


def check_media_type(request: web.Request, media: tuple[str, ...] = JSON_MEDIA) -> None:
    """415 unless the Content-Type is one of ``media`` or ``*+json`` (``""``: none sent)."""
    ctype = request.content_type.lower() if request.headers.get("Content-Type") else ""
    if ctype in media or ctype.endswith("+json"):
        return
    raise Problem("unsupported-media-type", f"Content-Type {ctype!r} is not application/json")


async def read(request: web.Request, shape: Any, *, required: bool = True, lenient: bool = False,
               media: tuple[str, ...] | None = None, max_bytes: int | None = None) -> Any:
    """The request's JSON body as ``shape`` (see the module docstring for every check).  ``media``: the
    accepted Content-Types (default JSON; ``lenient``: also none and ``application/octet-stream``)."""
    if not request.can_read_body:
        return decode(b"", shape, required=required)
    check_media_type(request, media or (LENIENT_MEDIA if lenient else JSON_MEDIA))
    if max_bytes is not None and (request.content_length or 0) > max_bytes:
        raise Problem("payload-too-large", f"The body exceeds {max_bytes} bytes")
    raw = await request.read()
    if max_bytes is not None and len(raw) > max_bytes:
        raise Problem("payload-too-large", f"The body exceeds {max_bytes} bytes")
    return decode(raw, shape, required=required)
