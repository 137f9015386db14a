"""Self-hosted comment moderation service."""

__version__ = "0.1.0"
