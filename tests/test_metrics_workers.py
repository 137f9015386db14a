"""``moderation serve --workers 2``: one scrape of /metrics counts the requests every worker answered."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import TEST_SECRET
from tests.test_faults import free_port

pytestmark = pytest.mark.slow
REQUESTS = 60


def _count(text: str, route: str) -> float:
    """The sum of ``moderation_http_requests_total`` series of GET ``route`` answered 200."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("moderation_http_requests_total{") and f'route="{route}"' in line
               and 'status="200"' in line and 'method="GET"' in line)


def _file_count(path: Path, route: str) -> float:
    """What one worker's own counter file holds for GET ``route`` (prometheus_client's storage format)."""
    from prometheus_client.mmap_dict import MmapedDict

    total = 0.0
    for key, value, _ts, _pos in MmapedDict.read_all_values_from_file(str(path)):
        _metric, sample, labels, *_ = json.loads(key)
        if sample == "moderation_http_requests_total" and labels.get("route") == route:
            total += value
    return total


async def test_counters_of_two_workers_add_up_in_every_scrape(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    mp_dir = tmp_path / "prom"
    mp_dir.mkdir()
    (mp_dir / "counter_99999.db").write_bytes(b"stale from a previous run")  # must be cleaned at start
    env = {**os.environ, "DATABASE_URL": database_url, "MODERATION_PORT": str(port),
           "MODERATION_WEBHOOK_SECRET": TEST_SECRET, "MODERATION_DATA_DIR": str(tmp_path / "data"),
           "MODERATION_SCORING_PROCESSES": "0", "MODERATION_CHALLENGE_RENDER_PROCESSES": "0",
           "PROMETHEUS_MULTIPROC_DIR": str(mp_dir)}
    log = (tmp_path / "serve.log").open("wb")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "moderation", "serve", "--workers", "2",
                                                env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        # each request on a new connection, so the kernel spreads them over both workers
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            deadline = time.monotonic() + 120
            served: dict[str, float] = {}
            while len(served) < 2 or not all(served.values()):  # until both workers listen and answer
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-3000:]
                assert proc.returncode is None, (tmp_path / "serve.log").read_text()[-3000:]
                try:
                    async with http.get(f"{url}/healthz") as resp:
                        assert resp.status == 200
                except aiohttp.ClientError:
                    await asyncio.sleep(0.2)
                    continue
                served = {p.name: _file_count(p, "/healthz") for p in mp_dir.glob("counter_*.db")}
                await asyncio.sleep(0.05)
            assert "counter_99999.db" not in served
            for _ in range(REQUESTS):
                async with http.get(f"{url}/problems/not-found") as resp:
                    assert resp.status == 200
            per_worker = {path.name: _file_count(path, "/problems/{slug}") for path in mp_dir.glob("counter_*.db")}
            assert len(per_worker) == 2 and all(per_worker.values()), per_worker  # both workers answered some
            for _ in range(6):  # whichever worker answers the scrape, it counts all of them
                async with http.get(f"{url}/metrics") as resp:
                    text = await resp.text()
                assert _count(text, "/problems/{slug}") == REQUESTS, text[:2000]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 60) == 0
