"""Slow clients against the real server (`python app.py` on 127.0.0.1) with raw sockets: a request
head sent a byte at a time, and a body that stalls, are cut off within their time limits, while
/healthz keeps answering quickly."""

from __future__ import annotations

import asyncio
import select
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from demo.timeouts import BodyTimeout
from tests.conftest import start_app

HEADER_S, BODY_S = 2.0, 2.0


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> Iterator[tuple[str, int]]:
    data = tmp_path_factory.mktemp("slow") / "data"
    data.mkdir()
    proc, base = start_app(data, {"HEADER_TIMEOUT_S": str(HEADER_S), "BODY_TIMEOUT_S": str(BODY_S),
                                  "KEEP_ALIVE_S": "1", "JOB_WORKERS": "1"})
    try:
        yield base, int(base.rsplit(":", 1)[1])
    finally:
        proc.terminate()
        proc.wait(20)


def _connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _until_closed(s: socket.socket, limit_s: float) -> tuple[float, bytes]:
    """Seconds until the server closes the connection, and what it sent meanwhile."""
    t0, got = time.monotonic(), b""
    s.settimeout(limit_s)
    try:
        while chunk := s.recv(65536):
            got += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return time.monotonic() - t0, got


def _trickle_until_closed(s: socket.socket, limit_s: float, on_tick=lambda: None) -> float:
    """Send a byte every 0.2 s until the server closes the connection; seconds it took (or limit_s)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        try:
            s.sendall(b"x")
            if select.select([s], [], [], 0.2)[0] and s.recv(1024) == b"":
                return time.monotonic() - t0
        except OSError:
            return time.monotonic() - t0
        on_tick()
    return limit_s


def _healthz_ms(base: str) -> float:
    t0 = time.perf_counter()
    assert requests.get(base + "/healthz", timeout=5).status_code == 200
    return (time.perf_counter() - t0) * 1000


def test_slowloris_is_dropped_and_healthz_stays_fast(app_url) -> None:
    base, port = app_url
    _healthz_ms(base)  # warm
    idle = [_connect(port) for _ in range(20)]  # connect and say nothing
    trickle = _connect(port)
    trickle.sendall(b"GET /healthz HT")  # half a request line, then a byte every 0.2 s
    latencies: list[float] = []
    dropped_after = _trickle_until_closed(trickle, HEADER_S + 5, lambda: latencies.append(_healthz_ms(base)))
    print(f"\nslowloris dropped after {dropped_after:.2f} s (limit {HEADER_S} s); /healthz meanwhile: "
          f"median {sorted(latencies)[len(latencies) // 2]:.1f} ms, max {max(latencies):.1f} ms")
    assert HEADER_S - 0.5 < dropped_after < HEADER_S + 1.0
    assert max(latencies) < 100
    for s in idle:
        waited, got = _until_closed(s, 2.0)
        assert got == b"" and waited < 1.0  # closed long ago: EOF at once
        s.close()
    trickle.close()


def test_stalled_body_gets_408(app_url) -> None:
    base, port = app_url
    s = _connect(port)
    t0 = time.monotonic()
    s.sendall(b"POST /avatars HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              b"Content-Length: 1048576\r\n\r\n" + b'{"height_')
    latencies = [_healthz_ms(base) for _ in range(5)]
    _, got = _until_closed(s, BODY_S + 5)
    elapsed = time.monotonic() - t0
    print(f"\nstalled body answered {got.split(b' ', 2)[1].decode() if got else 'nothing'} after {elapsed:.2f} s "
          f"(limit {BODY_S} s); /healthz meanwhile: max {max(latencies):.1f} ms")
    assert got.startswith(b"HTTP/1.1 408") and b"too slowly" in got
    assert BODY_S - 0.5 < elapsed < BODY_S + 1.5
    assert max(latencies) < 100
    s.close()


def test_kept_alive_connection_then_slow_head_is_dropped(app_url) -> None:
    """After one answered request, a head trickled on the same connection is cut off too (within the
    keep-alive wait plus the head's limit: the keep-alive timer alone is cancelled by any byte)."""
    _base, port = app_url
    s = _connect(port)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    s.settimeout(5)
    assert s.recv(65536).startswith(b"HTTP/1.1 200")
    s.sendall(b"GET /hea")
    dropped_after = _trickle_until_closed(s, 1 + HEADER_S + 5)
    print(f"\nslow head on a kept-alive connection dropped after {dropped_after:.2f} s")
    assert dropped_after < 1 + HEADER_S + 1.0
    s.close()


def _run_body_timeout(idle_s: float, total_s: float, chunk_every_s: float, chunks: int) -> tuple[list, list, float]:
    """An app reading its body through BodyTimeout from a client sending `chunks` chunks, then
    waiting for the disconnect; returns what it sent, what the app received, and the seconds taken."""
    sent: list[dict] = []
    received: list[dict] = []

    async def client_receive() -> dict:
        if len([m for m in received if m["type"] == "http.request"]) < chunks:
            await asyncio.sleep(chunk_every_s)
            return {"type": "http.request", "body": b"x", "more_body": len(received) + 1 < chunks}
        await asyncio.sleep(idle_s * 2)  # the client is done; its disconnect comes later
        return {"type": "http.disconnect"}

    async def app(scope, receive, send) -> None:
        while True:
            message = await receive()
            received.append(message)
            if message["type"] == "http.disconnect":
                return
            if not message["more_body"]:
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": b"ok"})

    async def send(message: dict) -> None:
        sent.append(message)

    async def main() -> float:
        t0 = time.monotonic()
        await asyncio.wait_for(BodyTimeout(app, idle_s, total_s)({"type": "http", "headers": []}, client_receive,
                                                                  send), 10)
        return time.monotonic() - t0

    return sent, received, asyncio.run(main())


def test_body_trickled_past_the_deadline_gets_408() -> None:
    """Each chunk comes well within the idle limit, but the whole body does not within its deadline."""
    sent, _received, seconds = _run_body_timeout(idle_s=0.5, total_s=0.6, chunk_every_s=0.1, chunks=1000)
    assert sent[0]["status"] == 408 and len([m for m in sent if m["type"] == "http.response.start"]) == 1
    assert 0.55 < seconds < 1.5


def test_after_the_body_receive_is_not_limited() -> None:
    """Once the body is in, the app may wait on receive() for the disconnect as long as it likes."""
    sent, received, _seconds = _run_body_timeout(idle_s=0.3, total_s=0.5, chunk_every_s=0.05, chunks=3)
    assert sent[0]["status"] == 200 and received[-1]["type"] == "http.disconnect"
