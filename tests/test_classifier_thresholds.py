"""Hold thresholds: the union of the holding attributes and spam stays within the clean-news budget."""

from __future__ import annotations

import numpy as np

from classifier.corpus import Example
from classifier.heads import OOF
from classifier.thresholds import CLEAN_NEWS_UNION_BUDGET, within_union_budget


def _oof(attribute: str, clean: list[float], positives: list[float]) -> OOF:
    examples = [Example("civil_comments", f"clean {i}", "en", ()) for i in range(len(clean))]
    examples += [Example("jigsaw_sample", f"toxic {i}", "en", ()) for i in range(len(positives))]
    y = np.asarray([0] * len(clean) + [1] * len(positives))
    return OOF(attribute, examples, y, np.asarray(clean + positives, dtype=float))


def test_the_union_is_brought_within_budget_at_the_cheapest_attribute() -> None:
    # 100 clean comments: toxicity holds 2 of them, spam 2 others (4 % together, over the 2.5 % budget);
    # raising spam past its two costs no positive, raising toxicity past 0.95 would cost most of its positives.
    tox_clean = [0.1] * 95 + [0.95, 0.95, 0.1, 0.1, 0.1]
    spam_clean = [0.1] * 95 + [0.1, 0.1, 0.1, 0.85, 0.86]
    per = {"toxicity": _oof("toxicity", tox_clean, [0.955] * 50 + [0.99] * 10),
           "spam": _oof("spam", spam_clean, [0.99] * 50)}
    got = within_union_budget({"toxicity": 0.9, "spam": 0.8}, per, ("toxicity", "spam"))
    assert got["spam"] > 0.86 and got["toxicity"] == 0.9
    held = [max(t >= got["toxicity"], s >= got["spam"]) for t, s in zip(tox_clean, spam_clean, strict=True)]
    assert np.mean(held) <= CLEAN_NEWS_UNION_BUDGET


def test_thresholds_within_budget_are_left_alone() -> None:
    per = {"toxicity": _oof("toxicity", [0.1] * 99 + [0.95], [0.99] * 10)}
    assert within_union_budget({"toxicity": 0.9}, per, ("toxicity", "threat")) == {"toxicity": 0.9}
