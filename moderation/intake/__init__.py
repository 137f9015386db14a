"""The CMS webhook: verify the signature, parse, score, decide, store (group commit) and answer."""
