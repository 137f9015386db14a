"""The held-out protocol, defined once: training (thresholds, calibration, metadata figures) and
evaluation (``moderation evaluate``) both take their test rows from here.

Everything is deterministic given ``seed``: a text's fold is a hash of (seed, text), so the same
text lands in the same fold in every data set that contains it (a comment never trains the head
that is judged on it), and adding rows to one data set does not move another's folds.

- :func:`fold_of` — the K-fold assignment (``K = FOLDS``) used for within-source held-out figures
  (civil_comments, jigsaw_sample, davidson, toxigen, hatexplain, sms_spam, arabic_mpold, korean_kmhas):
  fold ``HELDOUT_FOLD`` is the held-out 20 %; the out-of-fold predictions over all folds also
  calibrate the heads.
- :data:`LEAVE_ONE_OUT` — the English abuse sources held out whole (leave-one-dataset-out).
- YouTube is held out by video (``Record.group``), never by row.
"""

from __future__ import annotations

import hashlib

FOLDS = 5
HELDOUT_FOLD = 0
DEFAULT_SEED = 42

# English abuse sources, each held out whole once to measure generalisation to an unseen source.
# civil_comments_toxic is held out together with civil_comments (same platform; it has no clean rows).
LEAVE_ONE_OUT: dict[str, tuple[str, ...]] = {
    "civil_comments": ("civil_comments", "civil_comments_toxic"),
    "jigsaw_sample": ("jigsaw_sample",),
    "davidson": ("davidson",),
    "toxigen": ("toxigen",),
    "hatexplain": ("hatexplain",),
}
YOUTUBE = "youtube_spam"


def fold_of(text: str, seed: int = DEFAULT_SEED, folds: int = FOLDS) -> int:
    """The fold (0..folds-1) of a text: a hash of seed and text (stable across runs and machines)."""
    digest = hashlib.blake2b(f"{seed}\x00{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % folds


def is_heldout(text: str, seed: int = DEFAULT_SEED) -> bool:
    """True for the texts of the held-out fold (the 20 % no training split may see)."""
    return fold_of(text, seed) == HELDOUT_FOLD
