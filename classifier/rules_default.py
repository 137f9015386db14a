"""Starter word lists, loaded into the database on first run; moderators curate them from there.

Deliberately modest: ``BANNED`` holds only unambiguous profanity that a news site would not
publish; ``SUSPECT`` holds terms that usually deserve a human look (insults, spam phrases) but
have innocent uses.  Site-specific slurs and names belong in the database, not here.
"""

from __future__ import annotations

BANNED: list[str] = [
    "fuck",
    "fucking",
    "motherfucker",
    "cunt",
    "asshole",
    "bullshit",
    "dickhead",
    "shithead",
    "wanker",
    "twat",
]

SUSPECT: list[str] = [
    "idiot",
    "moron",
    "stupid",
    "retard",
    "scum",
    "shut up",
    "kill yourself",
    "bitch",
    "bastard",
    "shit",
    "crap",
    "subscribe to my channel",
    "check out my",
    "work from home",
    "click here",
    "free money",
    "earn money",
]
