"""A commenter's data (GDPR Art. 15/17): export everything, erase everything; a dump then holds none of it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from aiohttp import web

from moderation.app import create_app
from moderation.core.clientip import parse_networks
from moderation.core.hashing import hash_email, hash_ip
from moderation.review import auth
from tests.conftest import comment_payload, post_webhook
from tests.pg_dump_support import dump_text
from tests.test_outbox import Receiver, cb_config, wait_for

AUTHOR = "reader-erase-7f3q"
NAME = "Zelda Quintavalle-Oyelaran"
EMAIL = "zelda.quintavalle@erase.example"
IP = "198.51.100.99"
TEXTS = ("Quokkafeathers thinks the council's bypass plan ignores cyclists entirely.",
         "Quokkafeathers again: please publish the full traffic survey numbers.")
REPORT_NOTE = "Zelda-note: this one copies my earlier point"


@pytest.fixture
async def cms(aiohttp_server: Any) -> tuple[Receiver, str]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/cms/callbacks", rec.handle)
    server = await aiohttp_server(app)
    return rec, str(server.make_url("/cms/callbacks"))


async def _headers(db: Any, role: str) -> dict[str, str]:
    mod = await auth.create_moderator(db, f"{role}@news.example", "correct horse battery staple", role)
    return {"Authorization": f"Bearer {await auth.issue_token(db, mod.id, 'gdpr test')}"}


def _comment(external_id: str, text: str, author: str = AUTHOR, name: str = NAME, email: str = EMAIL,
             ip: str = IP) -> dict[str, Any]:
    payload = comment_payload(external_id, text)
    payload["data"]["author"] = {"id": author, "name": name, "email": email, "ip": ip}
    return payload


async def _seed(client: Any, db: Any, admin: dict[str, str]) -> dict[str, int]:
    for i, text in enumerate(TEXTS):
        assert (await post_webhook(client, _comment(f"gdpr-{i}", text))).status == 200
    assert (await post_webhook(client, _comment("other-1", "A neighbour's view on the bypass.", author="reader-2",
                                                name="Ole Other", email="ole@other.example",
                                                ip="192.0.2.44"))).status == 200
    ids = {r["external_id"]: r["id"] for r in await db.fetch("SELECT id, external_id FROM comments")}
    await db.execute("UPDATE comments SET status = 'approved'")
    fwd = {"X-Forwarded-For": IP}
    for target in (f"/v1/comments/{ids['other-1']}", "/v1/articles/art-1"):  # their reactions, as cms:<id>
        resp = await client.put(f"{target}/reaction", json={"kind": "like", "reader_id": AUTHOR}, headers=fwd)
        assert resp.status == 200, await resp.text()
    resp = await client.put(f"/v1/comments/{ids['gdpr-0']}/reaction", json={"kind": "dislike", "reader_id": "reader-2"})
    assert resp.status == 200
    resp = await client.post(f"/v1/comments/{ids['other-1']}/reports",  # their report of someone else
                             json={"reason": "off_topic", "note": REPORT_NOTE, "reader_id": AUTHOR}, headers=fwd)
    assert resp.status in (200, 201), await resp.text()
    resp = await client.post(f"/v1/comments/{ids['gdpr-1']}/reports", json={"reason": "spam", "reader_id": "reader-2"})
    assert resp.status in (200, 201), await resp.text()
    # feedback a CMS sent about their comment through the Akismet protocol (text only, no author)
    await db.execute("INSERT INTO compat_labels (protocol, text, label) VALUES ('akismet', $1, 'spam')", TEXTS[0])
    resp = await client.put(f"/v1/commenters/{AUTHOR}/block", json={"reason": f"{NAME} keeps posting the same"},
                            headers=admin)
    assert resp.status == 200, await resp.text()
    return ids


def _personal_strings(config: Any) -> list[str]:
    key = config.hashing_key
    return [AUTHOR, NAME, EMAIL, IP, "Quokkafeathers", REPORT_NOTE, "Zelda", "Quintavalle",
            hash_email(key, EMAIL), hash_ip(key, IP), "quokkafeath"]  # the last: a tsvector lexeme


async def test_export_then_erase_leaves_none_of_the_author_in_a_dump(aiohttp_client: Any, db: Any, config: Any,
                                                                     database_url: str, cms: Any) -> None:
    rec, url = cms
    cfg = cb_config(config, url, trusted_proxy_header="X-Forwarded-For", trusted_proxies=parse_networks("127.0.0.1"))
    client = await aiohttp_client(create_app(cfg))
    admin, moderator = await _headers(db, "admin"), await _headers(db, "moderator")
    ids = await _seed(client, db, admin)
    before = dump_text(database_url)
    # the test looks for what is there (raw e-mail and IP never are; a generated tsvector is not dumped)
    assert [s for s in _personal_strings(cfg) if s not in before] == [EMAIL, IP, "quokkafeath"]

    # Art. 15: admins only, everything about them
    assert (await client.get(f"/v1/commenters/{AUTHOR}/export", headers=moderator)).status == 403
    resp = await client.get(f"/v1/commenters/{AUTHOR}/export", headers=admin)
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    assert [c["text"] for c in data["comments"]] == list(TEXTS)
    assert {c["author_name"] for c in data["comments"]} == {NAME}
    assert data["comments"][0]["decisions"] and data["comments"][1]["reports_received"][0]["reason"] == "spam"
    assert {(r["target_type"], r["kind"]) for r in data["reactions"]} == {("comment", "like"), ("article", "like")}
    assert data["reports"][0]["note"] == REPORT_NOTE
    assert [f["text"] for f in data["protocol_feedback"]] == [TEXTS[0]]
    assert data["blocks"][0]["kind"] == "author" and any(a["action"] == "commenter.block" for a in data["audit"])

    # Art. 17
    assert (await client.post(f"/v1/commenters/{AUTHOR}/erase", headers=moderator)).status == 403
    await wait_for(lambda: len(rec.seen) >= 3)  # the callbacks of the three new comments came first
    seen_before = len(rec.seen)
    resp = await client.post(f"/v1/commenters/{AUTHOR}/erase", json={"reason": "request #41"}, headers=admin)
    assert resp.status == 200, await resp.text()
    summary = await resp.json()
    assert summary["comments"] == 2 and summary["callbacks"] == 2 and summary["reports"] == 2
    assert summary["reactions"] == 3 and summary["blocks"] == 1 and summary["pseudonym"].startswith("erased:")

    await wait_for(lambda: len(rec.seen) >= seen_before + 2)
    deleted = [s["payload"] for s in rec.seen[seen_before:]]
    assert sorted(p["data"]["external_id"] for p in deleted) == ["gdpr-0", "gdpr-1"]
    assert {p["type"] for p in deleted} == {"comment.deleted"}
    await asyncio.sleep(0.2)

    after = dump_text(database_url)
    for s in _personal_strings(cfg):
        assert s not in after, s
    assert "gdpr-0" in after and "Ole Other" in after            # tombstones and other people stay
    assert summary["pseudonym"] in after                         # the audit names the pseudonym
    assert (await db.fetchval("SELECT status FROM comments WHERE id = $1", ids["gdpr-0"])) == "deleted"
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'commenter.erase'") == 1
    # nothing is left to export or erase; the author may come back as a new commenter
    resp = await client.get(f"/v1/commenters/{AUTHOR}/export", headers=admin)
    assert resp.status == 404 and resp.content_type == "application/problem+json"
    resp = await client.post(f"/v1/commenters/{AUTHOR}/erase", headers=admin)
    assert resp.status == 404 and resp.content_type == "application/problem+json"
    # a replayed create of an erased comment is answered by its tombstone, not re-created
    assert (await post_webhook(client, _comment("gdpr-0", TEXTS[0]))).status == 200
    assert await db.fetchval("SELECT text FROM comments WHERE external_id = 'gdpr-0'") == ""


async def test_bad_author_ids_are_422(aiohttp_client: Any, db: Any, config: Any) -> None:
    client = await aiohttp_client(create_app(config))
    admin = await _headers(db, "admin")
    resp = await client.get("/v1/commenters/" + "x" * 300 + "/export", headers=admin)
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "author_id"
    resp = await client.post("/v1/commenters/someone/erase", json={"reason": 5}, headers=admin)
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "reason"
    assert (await client.get("/v1/commenters/someone/export")).status == 401


async def test_the_audit_log_stays_append_only_outside_an_erasure(db: Any) -> None:
    import asyncpg

    await db.execute("INSERT INTO audit_log (actor, action, target_type, target_id) VALUES ('t', 'x', 'y', 'z')")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("UPDATE audit_log SET target_id = 'changed'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("DELETE FROM audit_log")


async def test_the_cli_exports_and_erases(aiohttp_client: Any, db: Any, config: Any, database_url: str,
                                          tmp_path: Any) -> None:
    client = await aiohttp_client(create_app(config))
    assert (await post_webhook(client, _comment("cli-0", TEXTS[0]))).status == 200
    env = {**os.environ, "DATABASE_URL": database_url, "MODERATION_DATA_DIR": str(tmp_path / "data"),
           "MODERATION_WEBHOOK_SECRET": config.webhook_secret, "MODERATION_HASH_KEY": "cli-test-hash-key"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "moderation", "commenter", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    out = await asyncio.to_thread(cli, "export", AUTHOR)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["comments"][0]["text"] == TEXTS[0]
    out = await asyncio.to_thread(cli, "erase", AUTHOR, "--reason", "ticket 9")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["comments"] == 1
    assert await db.fetchval("SELECT text FROM comments WHERE external_id = 'cli-0'") == ""
    out = await asyncio.to_thread(cli, "export", AUTHOR)
    assert out.returncode == 1 and "nothing is held" in out.stderr
