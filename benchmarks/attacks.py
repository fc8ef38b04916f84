"""Benchmark: the real app (`python app.py` on 127.0.0.1) under each attack of the security issue,
one client at a time, while a second client probes /healthz every 50 ms.

For each attack it prints what the attacker got (status codes), the API process's peak memory above
its idle memory (VmRSS sampled every 10 ms; job worker processes are not the API process) and the
/healthz latency during the attack (median and worst). Then the fair queue: client B's first
garment alone, and behind client A's 30 queued garment jobs (A's jobs-in-flight quota lifted to 40
for that, as the quota would refuse A's 4th job otherwise).

Usage: python benchmarks/attacks.py [--quick]
Prints figures; asserts nothing. Connects only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import requests
from common import start_app, table
from import_bombs import instancing_bomb, polygon_obj, polygon_ply, texture_bomb

from core.samples import draw_garment


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Watch:
    """Samples the API process's memory and /healthz's latency while an attack runs."""

    def __init__(self, pid: int, base: str) -> None:
        self.pid, self.base = pid, base
        self.stop = threading.Event()
        self.rss: list[float] = []
        self.health_ms: list[float] = []

    def _memory(self) -> None:
        while not self.stop.wait(0.01):
            self.rss.append(rss_mb(self.pid))

    def _health(self) -> None:
        with requests.Session() as http:
            while not self.stop.wait(0.05):
                t0 = time.perf_counter()
                try:
                    http.get(self.base + "/healthz", timeout=5)
                    self.health_ms.append((time.perf_counter() - t0) * 1000)
                except requests.RequestException:
                    self.health_ms.append(5000.0)

    def run(self, attack: Callable[[], Counter]) -> dict:
        idle = rss_mb(self.pid)
        threads = [threading.Thread(target=self._memory), threading.Thread(target=self._health)]
        for t in threads:
            t.start()
        t0 = time.perf_counter()
        outcome = attack()
        seconds = time.perf_counter() - t0
        time.sleep(0.2)
        self.stop.set()
        for t in threads:
            t.join()
        return {"answers": " ".join(f"{k}×{v}" for k, v in sorted(outcome.items())), "attack_s": seconds,
                "rss_above_idle_mb": max(self.rss, default=idle) - idle,
                "healthz_p50_ms": statistics.median(self.health_ms) if self.health_ms else None,
                "healthz_max_ms": max(self.health_ms, default=None)}


def token(base: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + requests.post(base + "/auth/token", timeout=10).json()["token"]}


def photo() -> bytes:
    buf = io.BytesIO()
    draw_garment("top")[0].save(buf, format="JPEG")
    return buf.getvalue()


# -- the attacks ----------------------------------------------------------------------------------
def paths(base: str, headers: dict) -> Counter:
    """FileData paths the server must never open, by api name."""
    got: Counter = Counter()
    for path in ("/dev/zero", "/etc/shadow", "/etc/passwd", "/proc/self/environ"):
        r = requests.post(base + "/gradio_api/call/upload_image", headers=headers, timeout=10,
                          json={"data": [{"path": path, "meta": {"_type": "gradio.FileData"}}, None]})
        events = requests.get(f"{base}/gradio_api/call/upload_image/{r.json()['event_id']}", headers=headers,
                              timeout=15).text
        got["refused" if "event: error" in events else "ACCEPTED"] += 1
    return got


def bomb(data: bytes, name: str) -> Callable[[str, dict], Counter]:
    def attack(base: str, headers: dict) -> Counter:
        r = requests.post(base + "/clothes3d/import", headers=headers, files={"file": (name, data)}, timeout=300)
        return Counter([r.status_code])
    return attack


def slowloris(base: str, _headers: dict, connections: int = 100, hold_s: float = 12.0) -> Counter:
    """Connections that send half a request line and a byte now and then: dropped at the header limit."""
    port = int(base.rsplit(":", 1)[1])
    socks = []
    for _ in range(connections):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /healthz HT")
        socks.append(s)
    deadline, dropped = time.monotonic() + hold_s, set()
    while time.monotonic() < deadline and len(dropped) < connections:
        for i, s in enumerate(socks):
            if i in dropped:
                continue
            try:
                s.sendall(b"T")
                if s.recv(1024, socket.MSG_DONTWAIT) == b"":  # the server closed its end
                    dropped.add(i)
            except BlockingIOError:
                continue  # still open, nothing to read
            except OSError:
                dropped.add(i)
        time.sleep(0.5)
    for s in socks:
        s.close()
    return Counter({"dropped": len(dropped), "still open": connections - len(dropped)})


def token_flood(base: str, _headers: dict, n: int = 100) -> Counter:
    with requests.Session() as http:
        return Counter(http.post(base + "/auth/token", timeout=10).status_code for _ in range(n))


def upload_flood(base: str, _headers: dict, n: int = 300) -> Counter:
    data = photo()
    with requests.Session() as http:
        return Counter(http.post(base + "/gradio_api/upload", files={"files": ("t.jpg", data, "image/jpeg")},
                                 timeout=10).status_code for _ in range(n))


def job_flood(base: str, headers: dict, n: int = 30) -> Counter:
    """One user's garment jobs as fast as it can send them (the default quota holds 3 in flight)."""
    with requests.Session() as http:
        http.headers.update(headers)
        cloth = http.post(base + "/clothes/upload-image", files={"file": ("t.jpg", photo())}, timeout=30).json()
        return Counter(http.post(f"{base}/clothes/{cloth['id']}/generate-3d", json={"model": "silhouette"},
                                 timeout=30).status_code for _ in range(n))


# -- the fair queue -------------------------------------------------------------------------------
def garment_time(base: str, headers: dict, backlog: list[str] | None = None) -> float:
    with requests.Session() as http:
        http.headers.update(headers)
        cloth = http.post(base + "/clothes/upload-image", files={"file": ("t.jpg", photo())}, timeout=30).json()
        t0 = time.perf_counter()
        job = http.post(f"{base}/clothes/{cloth['id']}/generate-3d", json={"model": "silhouette"}, timeout=30).json()
        while http.get(f"{base}/clothes3d/{job['id']}", timeout=10).json()["status"] == "processing":
            time.sleep(0.02)
        return time.perf_counter() - t0


def fairness(tmp: Path) -> list[dict]:
    proc, base, _ = start_app(tmp / "fair", {"QUOTA_JOBS_IN_FLIGHT": "40", "QUOTA_ADDRESS_JOBS_IN_FLIGHT": "80"})
    try:
        a, b = token(base), token(base)
        for _ in range(2):
            garment_time(base, b)  # warm both workers
        alone = statistics.median(garment_time(base, b) for _ in range(3))
        with requests.Session() as http:
            http.headers.update(a)
            cloth = http.post(base + "/clothes/upload-image", files={"file": ("t.jpg", photo())}, timeout=30).json()
            for _ in range(30):
                assert http.post(f"{base}/clothes/{cloth['id']}/generate-3d", json={"model": "silhouette"},
                                 timeout=30).status_code == 202
        behind = garment_time(base, b)
        return [{"case": "B's first garment alone (median of 3)", "seconds": alone},
                {"case": "B's first garment behind A's 30 queued jobs", "seconds": behind},
                {"case": "added by A's backlog", "seconds": behind - alone}]
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small bombs and floods only (for the test suite)")
    args = ap.parse_args()
    attacks: dict[str, Callable[[str, dict], Counter]] = {
        "FileData paths (/dev/zero, /etc/shadow, ...)": paths,
        "texture bomb 6000² GLB": bomb(texture_bomb(3000 if args.quick else 6000), "t.glb"),
        "instancing bomb 100 nodes GLB": bomb(instancing_bomb(), "i.glb"),
        "polygon bomb 5000 corners OBJ": bomb(polygon_obj(faces=100 if args.quick else 1000), "p.obj"),
        "polygon bomb 5000 corners PLY": bomb(polygon_ply(faces=100 if args.quick else 1000), "p.ply"),
        "slowloris 100 connections": lambda b, h: slowloris(b, h, 20 if args.quick else 100,
                                                            3.0 if args.quick else 12.0),
        "new identities flood": token_flood,
        "Gradio upload flood": lambda b, h: upload_flood(b, h, 40 if args.quick else 300),
    }
    if not args.quick:
        attacks["texture bomb 9000² GLB"] = bomb(texture_bomb(9000), "t9.glb")
    attacks["job flood 30 of one user"] = job_flood  # last: it leaves the user at its jobs-in-flight limit
    with tempfile.TemporaryDirectory() as tmp:
        env = {"HEADER_TIMEOUT_S": "2"} if args.quick else {}
        proc, base, _ = start_app(Path(tmp) / "attacks", env)
        rows = []
        try:
            headers = token(base)
            for name, attack in attacks.items():
                rows.append({"attack": name} | Watch(proc.pid, base).run(lambda a=attack: a(base, headers)))
        finally:
            proc.terminate()
            proc.wait(30)
        print(table(rows, ["attack", "answers", "attack_s", "rss_above_idle_mb", "healthz_p50_ms",
                           "healthz_max_ms"]))
        print("\nfair queue (2 workers):")
        print(table(fairness(Path(tmp)), ["case", "seconds"]))
    print(json.dumps({"note": "rss is the API process only; imports run in job worker processes"}))


if __name__ == "__main__":
    main()
