"""Secrets the service generates for itself, kept in the data dir: created once, 0600 from the first byte.

* A secret given in the environment is used as is and never printed or logged.
* A secret generated here is announced once, by the start that creates it (:class:`Resolved.generated`);
  later starts only say where it is kept.
* Files are written to a private temporary name (``O_CREAT | O_EXCL``, mode 0600, fsync) and linked into
  place, which is atomic and never replaces a file another process created first: two instances starting
  together end up with the same secret.
* The hash key (HMAC key of e-mail/IP hashes, reader cookies, confirmation codes) is generated on its own for
  a new install.  An install from before it existed derived it from the webhook secret: that key is kept (and
  frozen into ``hash_key``, so rotating the webhook secret no longer changes every hash).  An install is
  "existing" when its data dir already holds a secret or an embedded Postgres, or ``DATABASE_URL`` points at a
  database that already has the service's tables.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import secrets
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

from moderation.core.config import (
    DERIVED_HASH_KEY_PREFIX,
    Config,
    ConfigError,
    new_webhook_secret,
    parse_webhook_secret,
)

log = logging.getLogger(__name__)

WEBHOOK_SECRET_FILE = "webhook_secret"  # noqa: S105 (a file name)
SITEVERIFY_SECRET_FILE = "siteverify_secret"  # noqa: S105
FROM_ENV = "environment"
HASH_KEY_FILE = "hash_key"


@dataclass(frozen=True)
class Generated:
    name: str    # the environment variable that would have given it
    value: str
    path: Path


@dataclass(frozen=True)
class Resolved:
    config: Config
    generated: tuple[Generated, ...] = ()
    origins: dict[str, str] = field(default_factory=dict)  # env var -> "environment" | path | "derived ..."


def create_secret_file(path: Path, value: str) -> bool:
    """Create ``path`` holding ``value``, readable by the owner only, atomically.  False when the file already
    exists (another process created it first: read that one)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(value + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # atomic; unlike rename it refuses to replace an existing file
        except FileExistsError:
            return False
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return True
    finally:
        tmp.unlink(missing_ok=True)


def read_secret_file(path: Path) -> str:
    """The secret in ``path``; a file others may read is made private again (and said so, without the value)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(0o600)
        log.warning("%s was readable by others (mode %o); now 0600", path, mode)
    return path.read_text().strip()


def _load_or_create(path: Path, make: str) -> tuple[str, bool]:
    if not path.exists() and create_secret_file(path, make):
        return make, True
    return read_secret_file(path), False


def new_hash_key() -> str:
    return "hk_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def legacy_hash_key(webhook_secret: str) -> str:
    """The key earlier releases derived from the webhook secret, in the ``hash_key`` file's notation."""
    return DERIVED_HASH_KEY_PREFIX + (b"moderation-hash:" + parse_webhook_secret(webhook_secret)).hex()


async def _has_service_tables(dsn: str) -> bool:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10, statement_cache_size=0)
    try:
        return bool(await conn.fetchval("SELECT to_regclass('public.comments') IS NOT NULL"))
    finally:
        await conn.close()


def existing_install(config: Config, *, had_files: bool) -> bool:
    """Did an earlier release already run on this install (so its hashes use the derived key)?"""
    if had_files or (config.data_dir / "postgres").exists():
        return True
    if config.database_url is None:
        return False
    try:
        return asyncio.run(_has_service_tables(config.database_url))
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError("MODERATION_HASH_KEY is unset and the database cannot be reached to tell whether it "
                          f"is an existing install ({exc.__class__.__name__}); set MODERATION_HASH_KEY") from None
    except Exception as exc:  # asyncpg's errors: same answer
        raise ConfigError("MODERATION_HASH_KEY is unset and the database could not be checked "
                          f"({exc.__class__.__name__}); set MODERATION_HASH_KEY") from None


def resolve(config: Config) -> Resolved:
    """Fill in the secrets the environment did not give, from (or generated into) the data dir.

    File I/O (and, for the hash key of a ``DATABASE_URL`` install without files, one query): the CLI calls it
    before create_app, which does none."""
    data = config.data_dir
    had_files = any((data / name).exists() for name in (WEBHOOK_SECRET_FILE, SITEVERIFY_SECRET_FILE))
    changes: dict[str, object] = {}
    generated: list[Generated] = []
    origins: dict[str, str] = {}

    def from_file(var: str, attr: str, filename: str, make: str) -> str:
        path = data / filename
        value, created = _load_or_create(path, make)
        if created:
            generated.append(Generated(var, value, path))
        origins[var] = str(path)
        changes[attr] = value
        return value

    webhook = config.webhook_secret
    if webhook is None:
        webhook = from_file("MODERATION_WEBHOOK_SECRET", "webhook_secret", WEBHOOK_SECRET_FILE, new_webhook_secret())
        parse_webhook_secret(webhook, str(data / WEBHOOK_SECRET_FILE))
    else:
        origins["MODERATION_WEBHOOK_SECRET"] = FROM_ENV
    if config.siteverify_secret is None:
        from_file("MODERATION_SITEVERIFY_SECRET", "siteverify_secret", SITEVERIFY_SECRET_FILE,
                  "sv_" + secrets.token_urlsafe(32))
    else:
        origins["MODERATION_SITEVERIFY_SECRET"] = FROM_ENV
    if config.hash_key is not None:
        origins["MODERATION_HASH_KEY"] = FROM_ENV
    elif (data / HASH_KEY_FILE).exists():
        changes["hash_key"] = read_secret_file(data / HASH_KEY_FILE)
        origins["MODERATION_HASH_KEY"] = str(data / HASH_KEY_FILE)
    elif existing_install(config, had_files=had_files):
        value, _ = _load_or_create(data / HASH_KEY_FILE, legacy_hash_key(webhook))
        changes["hash_key"] = value
        origins["MODERATION_HASH_KEY"] = f"{data / HASH_KEY_FILE} (kept from the webhook secret: existing install)"
        log.info("hash key: this install's hashes were made with the key derived from the webhook secret; "
                 "it is kept, in %s", data / HASH_KEY_FILE)
    else:
        from_file("MODERATION_HASH_KEY", "hash_key", HASH_KEY_FILE, new_hash_key())
    return Resolved(replace(config, **changes) if changes else config,  # type: ignore[arg-type]
                    tuple(generated), origins)


SHOWN_ONCE = ("MODERATION_WEBHOOK_SECRET", "MODERATION_SITEVERIFY_SECRET")  # the CMS needs these two


def announce(resolved: Resolved) -> list[str]:
    """The lines a start prints about its secrets: a generated secret the CMS needs, once (by the start that
    created it); otherwise only where each comes from -- never a value from the environment or a file.  The
    hash key is never shown (nothing outside needs it; copy the file to share it between machines)."""
    lines = []
    new = {g.name: g for g in resolved.generated}
    for var, origin in resolved.origins.items():
        what = var.removeprefix("MODERATION_").lower().replace("_", " ")
        if var in new and var in SHOWN_ONCE:
            lines.append(f"moderation: generated {what} {new[var].value}  (shown this once; kept in "
                         f"{new[var].path}, mode 0600)")
        elif var in new:
            lines.append(f"moderation: generated {what} into {new[var].path} (mode 0600)")
        else:
            lines.append(f"moderation: {what} from {origin}")
    return lines
