"""MicroBatcher: results fan out correctly, batches form, errors reach every waiter."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from classifier import Scores
from classifier.batcher import MicroBatcher


def _fake_score(texts: list[str]) -> list[Scores]:
    time.sleep(0.002)
    return [Scores(spam=(int(t) % 100) / 100, abuse=0.0, reasons={"spam": [t], "abuse": []}) for t in texts]


def test_concurrent_calls_get_their_own_results() -> None:
    sizes: list[int] = []
    loop_thread: list[int] = []

    def score(texts: list[str]) -> list[Scores]:
        assert threading.get_ident() != loop_thread[0]  # never on the event loop thread
        sizes.append(len(texts))
        return _fake_score(texts)

    async def main() -> list[Scores]:
        loop_thread.append(threading.get_ident())
        with ThreadPoolExecutor(max_workers=2) as ex:
            b = MicroBatcher(score, ex, window_ms=5.0, max_batch=64)
            out = await asyncio.gather(*(b.score(str(i)) for i in range(200)))
            await b.close()
            return list(out)

    out = asyncio.run(main())
    assert [s.reasons["spam"][0] for s in out] == [str(i) for i in range(200)]
    assert [s.spam for s in out] == [(i % 100) / 100 for i in range(200)]
    assert sum(sizes) == 200
    assert max(sizes) > 1 and max(sizes) <= 64
    assert len(sizes) < 200


def test_exception_reaches_every_waiter() -> None:
    def boom(texts: list[str]) -> list[Scores]:
        raise ValueError("model exploded")

    async def main() -> list[object]:
        with ThreadPoolExecutor(max_workers=1) as ex:
            b = MicroBatcher(boom, ex, window_ms=5.0, max_batch=8)
            res = await asyncio.gather(*(b.score(str(i)) for i in range(20)), return_exceptions=True)
            await b.close()
            return res

    res = asyncio.run(main())
    assert len(res) == 20
    assert all(isinstance(r, ValueError) and "exploded" in str(r) for r in res)


def test_wrong_result_count_is_an_error() -> None:
    async def main() -> None:
        with ThreadPoolExecutor(max_workers=1) as ex:
            b = MicroBatcher(lambda texts: [], ex, window_ms=1.0)
            with pytest.raises(RuntimeError):
                await b.score("x")

    asyncio.run(main())


def test_single_call_is_served_after_window_and_loop_stays_responsive() -> None:
    async def main() -> None:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.001)

        def slow(texts: list[str]) -> list[Scores]:
            time.sleep(0.05)
            return _fake_score(texts)

        with ThreadPoolExecutor(max_workers=1) as ex:
            b = MicroBatcher(slow, ex, window_ms=2.0)
            t = asyncio.create_task(ticker())
            s = await asyncio.wait_for(b.score("7"), timeout=2.0)
            stop.set()
            await t
            await b.close()
        assert s.spam == 0.07
        assert ticks >= 5  # the loop kept running while the batch was scored

    asyncio.run(main())


def test_timeout_cancels_only_the_waiter_and_close_rejects_new_work() -> None:
    async def main() -> None:
        def slow(texts: list[str]) -> list[Scores]:
            time.sleep(0.1)
            return _fake_score(texts)

        with ThreadPoolExecutor(max_workers=1) as ex:
            b = MicroBatcher(slow, ex, window_ms=1.0)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(b.score("1"), timeout=0.01)
            assert (await b.score("2")).spam == 0.02
            await b.close()
            with pytest.raises(RuntimeError):
                await b.score("3")

    asyncio.run(main())


def test_busy_scorer_sends_everything_that_queued_as_one_batch() -> None:
    """With every slot busy, texts wait and leave together: batches grow with the load."""
    import asyncio
    import time
    from concurrent.futures import ThreadPoolExecutor

    from classifier import Scores
    from classifier.batcher import MicroBatcher

    sizes: list[int] = []

    def slow(texts: list[str]) -> list[Scores]:
        sizes.append(len(texts))
        time.sleep(0.05)
        return [Scores(spam=0.0, abuse=0.0, reasons={}) for _ in texts]

    async def main() -> None:
        with ThreadPoolExecutor(1) as ex:
            b = MicroBatcher(slow, ex, window_ms=1.0, max_batch=64, max_in_flight=1)
            first = asyncio.ensure_future(b.score("first"))
            await asyncio.sleep(0.01)  # the first batch is running now
            await asyncio.gather(*(b.score(f"t{i}") for i in range(30)), first)
            await b.close()

    asyncio.run(main())
    assert sizes == [1, 30]
