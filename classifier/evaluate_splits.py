"""The held-out split definition (one, shared by evaluation and threshold choice).

A text's fold is a hash of its folded form (case and whitespace), so it does not depend on the order of
a file, on which source a text is in (the same comment in ``civil_comments`` and ``civil_comments_toxic``
is in the same fold), or on how a loader represents rows.  Fold :data:`TEST_FOLD` of every source is the
held-out test set (20 %); a model evaluated on it is trained without any training row whose folded text
equals a test text.

Beside it:
- leave one dataset out (:data:`LODO`): train without every row of a source (the Civil Comments pair
  together), test on all of that source;
- YouTube leave one video out: train without one video's comments, test on them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

FOLDS = 5
TEST_FOLD = 0
# Leave-one-dataset-out groups for every English abuse source: name -> sources left out of training.
# The test set is the first source of the group (civil_comments has clean rows; its toxic twin has none).
LODO: dict[str, tuple[str, ...]] = {
    "davidson": ("davidson",),
    "jigsaw_sample": ("jigsaw_sample",),
    "civil_comments": ("civil_comments", "civil_comments_toxic"),
    "toxigen": ("toxigen",),
    "hatexplain": ("hatexplain",),
}
_SPACE = re.compile(r"\s+")


def fold_key(text: str) -> str:
    """The folded text a split compares (case and whitespace folded)."""
    return _SPACE.sub(" ", text).strip().casefold()


def fold_of(text: str, seed: int = 0) -> int:
    digest = hashlib.sha256(f"{seed}\x00{fold_key(text)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % FOLDS


def is_test(text: str, seed: int = 0) -> bool:
    """In the held-out test fold."""
    return fold_of(text, seed) == TEST_FOLD


def banned_keys(texts: Iterable[str]) -> set[str]:
    """Folded forms of texts a training set must not contain."""
    return {fold_key(t) for t in texts}
