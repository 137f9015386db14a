"""Secrets: never printed from the environment, a generated one printed once, files 0600 atomically, and a
hash key of its own for new installs while existing installs keep the one derived from the webhook secret."""

from __future__ import annotations

import os
import signal
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from moderation.core import secrets
from moderation.core.config import Config, parse_webhook_secret
from tests.conftest import TEST_SECRET
from tests.test_faults import Service

ENV_SITEVERIFY = "sv_from_the_environment_0123456789"
ENV_HASH_KEY = "hash-key-from-the-environment-0123456789"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_install_generates_each_secret_once_0600(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path / "data")
    old_umask = os.umask(0)  # the files must be private whatever the umask
    try:
        first = secrets.resolve(config)
    finally:
        os.umask(old_umask)
    assert {g.name for g in first.generated} == {"MODERATION_WEBHOOK_SECRET", "MODERATION_SITEVERIFY_SECRET",
                                                 "MODERATION_HASH_KEY"}
    for name in ("webhook_secret", "siteverify_secret", "hash_key"):
        assert _mode(tmp_path / "data" / name) == 0o600, name
    assert not [p for p in (tmp_path / "data").iterdir() if p.name.startswith(".")]  # no temporary left
    lines = secrets.announce(first)
    assert any(first.config.webhook_secret in line for line in lines)  # shown on the start that made it ...
    assert not any(first.config.hash_key in line for line in lines)   # (the hash key is never shown)
    again = secrets.resolve(config)
    assert again.generated == () and again.config == first.config
    assert not any(again.config.webhook_secret in line or again.config.siteverify_secret in line
                   for line in secrets.announce(again))              # ... and never again
    # its own key, not one derived from the webhook secret
    assert first.config.hashing_key != b"moderation-hash:" + parse_webhook_secret(first.config.webhook_secret)


def test_an_existing_install_keeps_the_hash_key_derived_from_its_webhook_secret(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "webhook_secret").write_text(TEST_SECRET + "\n")  # written by an earlier release
    (data / "webhook_secret").chmod(0o644)                       # ... world-readable, as it briefly was
    resolved = secrets.resolve(Config(data_dir=data))
    legacy = b"moderation-hash:" + parse_webhook_secret(TEST_SECRET)
    assert resolved.config.hashing_key == legacy == Config(webhook_secret=TEST_SECRET).hashing_key
    assert _mode(data / "webhook_secret") == 0o600
    assert (data / "hash_key").read_text().startswith("hkx_") and _mode(data / "hash_key") == 0o600
    # frozen: a later change of the webhook secret no longer changes every hash
    rotated = secrets.resolve(Config(data_dir=data, webhook_secret="whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1Q="))
    assert rotated.config.hashing_key == legacy


async def test_database_url_installs_are_told_apart_by_their_tables(tmp_path: Path, database_url: str,
                                                                    postgres: Any) -> None:
    env_secrets = {"webhook_secret": TEST_SECRET, "siteverify_secret": ENV_SITEVERIFY}
    existing = await _resolve_in_thread(Config(database_url=database_url, data_dir=tmp_path / "a", **env_secrets))
    assert existing.config.hashing_key == b"moderation-hash:" + parse_webhook_secret(TEST_SECRET)
    conn = await postgres._admin()
    try:
        await conn.execute('CREATE DATABASE "secrets_empty_db"')
    finally:
        await conn.close()
    postgres.created.append("secrets_empty_db")
    new = await _resolve_in_thread(Config(database_url=postgres.dsn("secrets_empty_db"), data_dir=tmp_path / "b",
                                          **env_secrets))
    assert [g.name for g in new.generated] == ["MODERATION_HASH_KEY"]
    assert new.config.hashing_key != existing.config.hashing_key


async def _resolve_in_thread(config: Config) -> secrets.Resolved:
    import asyncio

    return await asyncio.get_running_loop().run_in_executor(None, secrets.resolve, config)


def test_instances_creating_a_secret_together_get_the_same_one(tmp_path: Path) -> None:
    path = tmp_path / "data" / "webhook_secret"
    for _ in range(20):
        path.unlink(missing_ok=True)
        with ThreadPoolExecutor(8) as pool:
            values = list(pool.map(lambda i: secrets._load_or_create(path, f"whsec_candidate{i}")[0], range(8)))
        assert len(set(values)) == 1 and values[0] == path.read_text().strip()


def test_config_repr_hides_secrets() -> None:
    config = Config(database_url="postgresql://mod:pw-in-url@db/moderation", webhook_secret=TEST_SECRET,
                    hash_key=ENV_HASH_KEY, siteverify_secret=ENV_SITEVERIFY, callback_secret=TEST_SECRET)
    text = repr(config)
    assert not any(s in text for s in ("pw-in-url", TEST_SECRET, ENV_HASH_KEY, ENV_SITEVERIFY))


@pytest.mark.slow
async def test_serve_never_prints_secrets_from_the_environment(database_url: str, tmp_path: Path) -> None:
    service = Service(database_url, tmp_path, MODERATION_SITEVERIFY_SECRET=ENV_SITEVERIFY,
                      MODERATION_HASH_KEY=ENV_HASH_KEY, MODERATION_SCORING_PROCESSES="0",
                      MODERATION_CHALLENGE_RENDER_PROCESSES="0")
    await service.start()
    service.signal(signal.SIGTERM)
    assert await service.wait(30) == 0
    out = service.log.read_text()
    assert "listening on" in out and "webhook secret from environment" in out
    for value in (TEST_SECRET, TEST_SECRET.removeprefix("whsec_"), ENV_SITEVERIFY, ENV_HASH_KEY):
        assert value not in out
    assert not (tmp_path / "data" / "webhook_secret").exists()


@pytest.mark.slow
async def test_serve_prints_a_generated_secret_on_the_start_that_creates_it_only(database_url: str,
                                                                                tmp_path: Path) -> None:
    outputs = []
    for _ in range(2):
        service = Service(database_url, tmp_path, MODERATION_SCORING_PROCESSES="0",
                          MODERATION_CHALLENGE_RENDER_PROCESSES="0", MODERATION_HASH_KEY=ENV_HASH_KEY)
        del service.env["MODERATION_WEBHOOK_SECRET"]
        service.log = tmp_path / f"start-{len(outputs)}.log"
        await service.start()
        service.signal(signal.SIGTERM)
        assert await service.wait(30) == 0
        outputs.append(service.log.read_text())
    generated = (tmp_path / "data" / "webhook_secret").read_text().strip()
    assert outputs[0].count(generated) == 1 and "generated webhook secret" in outputs[0]
    assert generated not in outputs[1] and "webhook secret from " + str(tmp_path / "data") in outputs[1]
