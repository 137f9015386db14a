"""Deciding what happens to a comment (publish / hold / reject) and learning from moderators' decisions."""
