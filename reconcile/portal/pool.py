"""Checks off the event loop: a bounded pool of worker processes, each with its own `service.Checker`.

Every check (and every send, which checks first) runs in a worker process,
so a slow or hostile upload never blocks the server's event loop or another
user. Each worker reads the registers once (again when their files change)
and keeps the ledger's history until the ledger file changes.

At most `workers + queue` checks are admitted at once; a request beyond
that gets `Busy` at once, and the page says "busy, try again". A worker
that dies (killed, out of memory) breaks the pool: it is replaced and the
request that saw it gets `Busy` too. Workers are started with "spawn": a
forked child of a process whose Polars thread pool runs can deadlock.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from reconcile import config as config_mod
from reconcile.service import Checker, CheckOutcome

_checker: Checker | None = None


def _init(inbox: str, config_dir: str, ledger: str | None) -> None:
    global _checker
    _checker = Checker(Path(inbox), config_mod.load(Path(config_dir)), ledger)
    try:
        _checker.registers()  # warm: the first request should not pay for it
    except Exception:  # noqa: BLE001 - a broken register is reported by the check that needs it
        pass


def _check(path: str, source_file: str, lang: str | None, annotated: bool) -> CheckOutcome:
    assert _checker is not None
    return _checker.check(Path(path), source_file, lang, annotated)


def _template(provider_id: str, month, lang: str | None) -> bytes:
    assert _checker is not None
    return _checker.template(provider_id, month, lang)


def _ping() -> int:
    return os.getpid()


class Busy(Exception):
    """No room for another check right now."""


class CheckPool:
    def __init__(self, inbox: Path, config_dir: Path, ledger: str | None, workers: int = 2, queue: int = 64):
        self._args = (str(inbox), str(config_dir), ledger)
        self.workers = max(1, workers)
        self.limit = self.workers + max(0, queue)
        self._admitted = 0
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init, initargs=self._args)
            return self._executor

    def start(self) -> None:
        """Start every worker now (each reads the registers once) rather than at the first check."""
        pool = self._pool()
        for future in [pool.submit(_ping) for _ in range(self.workers)]:
            future.result()

    def close(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None

    def _admit(self) -> None:
        with self._lock:
            if self._admitted >= self.limit:
                raise Busy()
            self._admitted += 1

    def _release(self) -> None:
        with self._lock:
            self._admitted -= 1

    async def check(self, path: Path, source_file: str, lang: str | None, annotated: bool) -> CheckOutcome:
        return await self._run(_check, str(path), source_file, lang, annotated)

    async def template(self, provider_id: str, month, lang: str | None) -> bytes:
        return await self._run(_template, provider_id, month, lang)

    async def _run(self, fn, *args):
        self._admit()
        try:
            pool = self._pool()
            try:
                future = pool.submit(fn, *args)
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                with self._lock:
                    if self._executor is pool:
                        self._executor = None
                pool.shutdown(wait=False, cancel_futures=True)
                raise Busy() from None
        finally:
            self._release()
