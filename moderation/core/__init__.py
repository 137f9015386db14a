"""Foundations every capability imports: Config, db pool, problems (RFC 9457), AppKeys, named SQL, shared helpers."""
