"""Benchmark: the web portal's check under load, on a real uvicorn on 127.0.0.1.

    .venv/bin/python bench/bench_portal.py                  # writes bench/results/portal.json
    .venv/bin/python bench/bench_portal.py --concurrent 50 --scale turku

Starts `reconcile serve` as its own process on a copy of a demo inbox (Turku
scale: 40 providers, 1,200 clients, cached under bench/cache/turku/ as
bench_run.py makes it; `--scale sample` uses the repository's small inbox),
creates one provider account per provider whose workbooks are checked (their
sign-up links used and signed in over HTTP, as a person does), then with httpx:

1. warm-up: one check per worker so every worker has read the registers;
2. one at a time: `--single` checks in a row: p50 / p95 latency of one check, server warm;
3. at once: `--concurrent` checks sent together (each provider its own
   workbooks, spread over the batch's files): p50 / p95 latency, the wall
   time, throughput (checks/s), and every response's status (a request is
   lost when it is not answered 200 with its findings page).

The server's peak memory (its process and its worker processes, resident,
sampled from /proc every 0.05 s) is recorded over the whole run.

Targets (issue 18): one check p50 under 0.5 s warm; p95 under 3 s with 50 at
once; memory under 1 GiB; no request lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from bench_run import inbox_for, tree_rss  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "portal.json"
BATCH = "2026-11"
PASSWORD = "benchmark password 2026"
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


class Peak:
    def __init__(self, pid: int):
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            time.sleep(0.05)

    def stop(self) -> int:
        self.done.set()
        self.thread.join()
        return self.peak


def workbooks_by_provider(inbox: Path) -> dict[str, list[Path]]:
    """The batch's workbooks that name a provider, by provider (read as the checks read them)."""
    from reconcile import config
    from reconcile.read import intake, invoice

    cfg = config.load(ROOT / "config")
    out: dict[str, list[Path]] = {}
    for path in sorted((inbox / BATCH).iterdir()):
        inv = invoice.read_invoice(intake.submission(path), cfg)
        if inv.header.provider_id and not inv.fatal:
            out.setdefault(inv.header.provider_id, []).append(path)
    return out


def sign_in(base: str, ledger: str, provider_id: str) -> httpx.Client:
    from reconcile.portal import accounts

    name = f"bench-{provider_id}"
    token = accounts.invite(ledger, name, provider_id, False, "fi")
    client = httpx.Client(base_url=base, timeout=120, follow_redirects=True)
    page = client.get(f"/signup/{token}")
    page = client.post(f"/signup/{token}", data={"csrf": CSRF_RE.search(page.text).group(1), "password": PASSWORD,
                                                  "password2": PASSWORD})
    r = client.post("/signin", data={"csrf": CSRF_RE.search(page.text).group(1), "name": name, "password": PASSWORD})
    assert r.url.path == "/check", r.text[:300]
    return client


def check_once(client: httpx.Client, path: Path) -> tuple[float, int]:
    token = CSRF_RE.search(client.get("/check").text).group(1)
    data = path.read_bytes()
    start = time.perf_counter()
    r = client.post("/check", data={"csrf": token}, files={"workbook": (path.name, data)})
    return time.perf_counter() - start, r.status_code if 'class="findings"' in r.text or "Ei havaintoja" in r.text else -r.status_code


async def check_async(client: httpx.AsyncClient, token: str, path: Path, data: bytes) -> tuple[float, int]:
    start = time.perf_counter()
    r = await client.post("/check", data={"csrf": token}, files={"workbook": (path.name, data)})
    ok = r.status_code == 200 and ('class="findings"' in r.text or "Ei havaintoja" in r.text)
    return time.perf_counter() - start, r.status_code if ok else -r.status_code


async def at_once(base: str, clients: dict[str, httpx.Client], jobs: list[tuple[str, Path]]) -> tuple[list, float]:
    asyncs, tokens = {}, {}
    for pid, sync in clients.items():
        asyncs[pid] = httpx.AsyncClient(base_url=base, timeout=300, cookies=sync.cookies)
        tokens[pid] = CSRF_RE.search(sync.get("/check").text).group(1)
    payloads = [(pid, path, path.read_bytes()) for pid, path in jobs]
    start = time.perf_counter()
    results = await asyncio.gather(*(check_async(asyncs[pid], tokens[pid], path, data) for pid, path, data in payloads))
    wall = time.perf_counter() - start
    for c in asyncs.values():
        await c.aclose()
    return results, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=["turku", "sample"], default="turku")
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--single", type=int, default=20)
    parser.add_argument("--workers", type=int, default=None, help="the server's check workers (default: its own)")
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()

    source = inbox_for("turku") if args.scale == "turku" else ROOT / "inbox"
    work = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    try:
        inbox, outbox = work / "inbox", work / "outbox"
        shutil.copytree(source / "register", inbox / "register")
        shutil.copytree(source / BATCH, inbox / BATCH)
        by_provider = workbooks_by_provider(inbox)
        ledger = str(outbox / "ledger.sqlite")
        from reconcile.portal import accounts

        accounts.open_accounts(ledger)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "reconcile", "serve", "--inbox", str(inbox), "--outbox", str(outbox),
                   "--config", str(ROOT / "config"), "--port", str(port)]
        if args.workers:
            command += ["--workers", str(args.workers)]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
        peak = Peak(server.pid)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{base}/signin", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"the server did not start: {server.stderr.read().decode()[-2000:]}")
                time.sleep(0.2)
            providers = sorted(by_provider)
            clients = {pid: sign_in(base, ledger, pid) for pid in providers}
            files = [(pid, path) for pid in providers for path in by_provider[pid]]
            for pid, path in files[:4]:  # warm-up: every worker reads the registers
                check_once(clients[pid], path)
            single = [check_once(clients[pid], path) for pid, path in (files * 10)[:args.single]]
            jobs = [files[i % len(files)] for i in range(args.concurrent)]
            results, wall = asyncio.run(at_once(base, clients, jobs))
        finally:
            memory = peak.stop()
            server.terminate()
            server.wait(timeout=60)
        one = [s for s, _ in single]
        many = [s for s, _ in results]
        lost = sum(1 for _, status in results + single if status != 200)
        report = {
            "scale": args.scale,
            "workbooks": len(files),
            "providers": len(providers),
            "single": {"n": len(one), "p50_s": round(statistics.median(one), 3), "p95_s": round(percentile(one, 95), 3)},
            "concurrent": {"n": len(many), "p50_s": round(statistics.median(many), 3),
                           "p95_s": round(percentile(many, 95), 3), "max_s": round(max(many), 3),
                           "wall_s": round(wall, 3), "throughput_per_s": round(len(many) / wall, 2)},
            "lost": lost,
            "peak_memory_mib": round(memory / 2**20, 1),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "load_1min": round(os.getloadavg()[0], 2)},
        }
        print(json.dumps(report, indent=2))
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        targets = [report["single"]["p50_s"] < 0.5, report["concurrent"]["p95_s"] < 3, memory < 2**30, lost == 0]
        print("targets met" if all(targets) else "TARGETS MISSED", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
