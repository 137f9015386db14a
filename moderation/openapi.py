"""(stub; the OpenAPI document is being written)"""

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register GET /openapi.json."""
