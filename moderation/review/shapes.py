"""The moderators' JSON API request bodies, declared once (the reader validates them, OpenAPI shows them).

The domain functions (``decisions``, ``queue``, ``commenters``, ``wordlists``) still check their arguments,
because the web UI's forms call them too; the limits here are theirs, imported, not copied.
"""

from typing import Annotated, Literal

import msgspec

from moderation.core.shapes import Id, Shape, Text
from moderation.review import decisions, queue, wordlists

MAX_TOKEN_NAME_CHARS = 100
MAX_TOKEN_DAYS = 3650

Action = Literal[tuple(decisions.ACTIONS)]  # type: ignore[valid-type]
Reason = Annotated[str, msgspec.Meta(max_length=decisions.MAX_REASON_CHARS,
                                     description="Why (shown in the audit log).")]
Ids = Annotated[list[Id], msgspec.Meta(min_length=1, max_length=decisions.MAX_BULK)]


class ReasonBody(Shape, forbid_unknown_fields=False):
    """An optional reason for the audit log."""

    reason: Reason | None = None


class ClaimBody(Shape):
    """How many pending comments to claim, and for how long."""

    limit: Annotated[int, msgspec.Meta(ge=1, le=queue.MAX_CLAIM)] = 10
    lease_s: Annotated[float, msgspec.Meta(ge=10, le=3600)] = float(queue.DEFAULT_LEASE_S)


class ReleaseBody(Shape):
    """The comments whose claims to give back."""

    ids: Ids


class DecisionBody(Shape):
    """One moderator decision."""

    action: Action
    reason: Reason | None = None


class QueueFilter(Shape, forbid_unknown_fields=True):
    """Queue filters, as for ``GET /v1/queue`` (without ``order``)."""

    status: Literal[tuple(queue.STATUSES)] = "pending"  # type: ignore[valid-type]
    reason: Annotated[str, msgspec.Meta(max_length=64, description="A reason code, e.g. spam.")] | None = None
    article: Annotated[str, msgspec.Meta(max_length=256)] | None = None
    author: Annotated[str, msgspec.Meta(max_length=256)] | None = None
    q: Annotated[str, msgspec.Meta(max_length=queue.MAX_Q_CHARS, description=(
        'Web-search syntax: words AND-ed, "exact phrase", -word, or.'))] | None = None
    language: Annotated[str, msgspec.Meta(max_length=16, pattern=queue.LANGUAGE_PATTERN, description=(
        "The comment's detected language (ISO 639-1, e.g. en, ar, ko, de; und: no letters)."))] | None = None


class BulkBody(Shape, forbid_unknown_fields=True):
    """Many decisions at once: by ``ids`` or by ``filter`` (at most 5000 matches), all or nothing."""

    action: Action
    reason: Reason | None = None
    ids: Ids | None = None
    filter: QueueFilter | None = None


class TermBody(Shape):
    """A word-list term (trimmed, whitespace-collapsed, lower-cased)."""

    term: Annotated[str, msgspec.Meta(max_length=wordlists.MAX_TERM_CHARS * 4, examples=["cheap watches"])]


class TokenBody(Shape):
    """A new API token: its name, whose it is (default: yours) and when it expires (default: never)."""

    name: Text(MAX_TOKEN_NAME_CHARS, examples=["CMS integration"])
    moderator_id: Id | None = None
    expires_in_days: Annotated[float, msgspec.Meta(gt=0, le=MAX_TOKEN_DAYS)] | None = None
