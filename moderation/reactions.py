"""(stub; filled in by its capability)"""

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register this capability's routes, keys and cleanup contexts on the app (no I/O)."""
