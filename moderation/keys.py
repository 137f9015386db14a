"""Every typed key stored on the aiohttp Application, in one place."""

from __future__ import annotations

from concurrent.futures import Executor
from typing import TYPE_CHECKING

import asyncpg
from aiohttp import web

from moderation.config import Config

if TYPE_CHECKING:
    pass

CONFIG = web.AppKey("config", Config)
POOL = web.AppKey("pool", asyncpg.Pool)
EMBEDDED_PG = web.AppKey("embedded_pg", "EmbeddedPostgres")
EXECUTOR = web.AppKey("executor", Executor)          # the one pool for CPU work: model, captcha rendering
MODEL = web.AppKey("model", "Model")
SCORER = web.AppKey("scorer", "MicroBatcher")
RULES = web.AppKey("rules", "RulesCache")
# Extra checks run on every parsed comment event before it is scored (e.g. confirmation tokens).
INTAKE_CHECKS = web.AppKey("intake_checks", list)
