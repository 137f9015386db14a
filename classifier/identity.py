"""Identity terms, and the feature columns that spell them: naming a group is not evidence of an attack on it.

Why: in the training data a group's name is far more often in abusive rows than in clean ones (hate corpora
name groups; clean news comments rarely do), so a linear head learns the name itself: "Mexicans are welcome
here, and always have been." scored identity_attack 0.89, with +1.74 from the word "mexicans" (Dixon et al.,
2018, "Measuring and Mitigating Unintended Bias in Text Classification").  The heads in
:data:`DAMPED_HEADS` are fitted with these columns scaled down by :data:`DAMPING` (an L2 penalty
``1 / DAMPING**2`` times stronger on their weights), so the words said about a group carry the score and the
group's name only what the data insists on.  The scaling is folded into the shipped coefficients: the head is
still one linear model over the same features, explained exactly.

The list follows Dixon et al.'s identity terms (with plurals), plus the groups of the functional suite's
templates that news comments name; it was not tuned on any figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from classifier.features import FeatureSpace

IDENTITY_TERMS = frozenset("""
lesbian gay bisexual transgender trans queer lgbt lgbtq homosexual heterosexual nonbinary african black white
european hispanic latino latina latinx mexican asian indian chinese japanese arab christian muslim jewish jew
buddhist catholic protestant sikh hindu atheist immigrant refugee women woman men elderly disabled deaf blind
""".split())
_WORDS = IDENTITY_TERMS | {t + "s" for t in IDENTITY_TERMS}
# Measured (5-fold OOF, identity_attack head, 2026-12-04): neutral/positive identity templates of the functional
# suite at or above the hold threshold 8 -> 3 of 526, ROC AUC per source within +-0.005 (civil_comments 0.632 ->
# 0.627, Jigsaw 0.915 -> 0.914, HateXplain 0.813 -> 0.815, Davidson and ToxiGen unchanged).
DAMPING = 0.3
DAMPED_HEADS = ("identity_attack",)
# Character n-grams shorter than this are shared with too many other words ("ian", "ish") to count as a name.
_MIN_CHAR_GRAM = 4


def identity_columns(space: FeatureSpace) -> np.ndarray:
    """Column indices of the word n-grams containing an identity term and of the character n-grams (of
    :data:`_MIN_CHAR_GRAM`+ characters) found inside one, as the ``char_wb`` analyser pads it (" gays ")."""
    words = [i for i, name in enumerate(space.word_names.tolist()) if not _WORDS.isdisjoint(name.split())]
    padded = [f" {w} " for w in _WORDS]
    chars = [space.n_word + i for i, gram in enumerate(space.char_names.tolist())
             if len(gram.strip()) >= _MIN_CHAR_GRAM and any(gram in p for p in padded)]
    return np.asarray(words + chars, dtype=np.int64)
