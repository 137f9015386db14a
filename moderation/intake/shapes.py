"""The CMS webhook's body, declared once: the reader validates it and the OpenAPI document shows it.

Three event types share one envelope, ``{"type": ..., "data": {...}}``; a deletion only names the comment.
``data.text``'s limit is ``MODERATION_MAX_TEXT_CHARS``, so the shapes are built per limit (and cached).
"""


import functools
import ipaddress
from datetime import datetime
from typing import Annotated, Any, ClassVar

import msgspec

from moderation.core.shapes import Checks, Shape, Text

EVENT_TYPES = ("comment.created", "comment.updated", "comment.deleted")

CmsId = Text(256, description="The CMS's id.")


class Article(Shape):
    """The article the comment belongs to."""

    id: CmsId
    url: Text(2048) | None = None
    title: Text(1000) | None = None


def _email(value: str) -> str | None:
    return None if "@" in value else "must be an e-mail address"


def _ip(value: str) -> str | None:
    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        return "must be an IPv4 or IPv6 address"
    return None


def _timestamp(value: str) -> str | None:
    try:
        parse_timestamp(value)
    except ValueError as exc:
        return str(exc)
    return None


class Author(Shape):
    """Who wrote the comment.  ``email`` and ``ip`` are stored only as keyed hashes."""

    id: CmsId
    name: Text(200, examples=["Ada"])
    email: Text(320, examples=["ada@example.org"]) | None = None
    ip: Text(64, description="The reader's IP address (IPv4 or IPv6).", examples=["203.0.113.7"],
             anyOf=[{"format": "ipv4"}, {"format": "ipv6"}]) | None = None

    checks: ClassVar[Checks] = {"email": _email, "ip": _ip}


def parse_timestamp(raw: str) -> datetime:
    """RFC 3339 (``Z`` or an offset); ValueError with the message otherwise."""
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError("must be an RFC 3339 timestamp, e.g. 2026-11-25T12:00:00Z") from None
    if value.tzinfo is None:
        raise ValueError("must include a time zone offset (RFC 3339)")
    return value


Timestamp = Text(64, format="date-time", examples=["2026-11-25T12:00:00Z"])


@functools.lru_cache(maxsize=4)
def event_shape(max_text_chars: int) -> Any:
    """The webhook body (a union tagged by ``type``) for a given ``data.text`` limit."""

    class CommentData(Shape):
        """A comment as the CMS sends it on creation or edit."""

        id: CmsId
        article: Article
        author: Author
        text: Text(max_text_chars, description="The comment text (plain text).")
        parent_id: CmsId | None = None
        created_at: Timestamp | None = None
        confirmation_token: Text(512, description="The token the reader earned (POST /v1/challenges/…/answer); "
                                     "required when MODERATION_REQUIRE_CONFIRMATION is on.") | None = None

        checks: ClassVar[Checks] = {"created_at": _timestamp}

    class CommentRef(Shape):
        """The deleted comment."""

        id: CmsId

    class CommentCreated(msgspec.Struct, tag_field="type", tag="comment.created", kw_only=True):
        """A new comment to score and decide."""

        data: CommentData

    class CommentUpdated(msgspec.Struct, tag_field="type", tag="comment.updated", kw_only=True):
        """An edited comment: re-scored and re-decided."""

        data: CommentData

    class CommentDeleted(msgspec.Struct, tag_field="type", tag="comment.deleted", kw_only=True):
        """The CMS deleted the comment."""

        data: CommentRef

    return Annotated[CommentCreated | CommentUpdated | CommentDeleted,
                     msgspec.Meta(title="CommentEvent", description="A Standard Webhooks event from the CMS.")]
