"""ZeroGPU simulated on this machine with the real `spaces` package: a stand-in for the device API
that a ZeroGPU Space talks to, and (run as a script) `app.py` started the way a Space starts it.

`spaces` runs its ZeroGPU mode when SPACES_ZERO_GPU is set: it patches torch (CUDA emulated outside
the decorated calls), packs the models at launch and reports the decorated functions, asks the
device API for a GPU at each call (with the visitor's token from the Gradio request) and runs the
call in a process forked from the serving process. Only what needs a CUDA build and a real GPU is
stood in for here: what a CPU build of torch lacks or has in another form (its CUDA version, the
low-level CUDA init, a fork check that can be pickled), attaching the GPU, and moving the packed
tensors onto it. Everything else is the package's own code.
"""

from __future__ import annotations

import json
import runpy
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parents[1]


class FakeDeviceAPI:
    """The device API's four calls, each recorded with its query parameters (`calls[path]`)."""

    def __init__(self) -> None:
        self.calls: dict[str, list[dict[str, str]]] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the name http.server calls
                url = urlparse(self.path)
                owner.calls.setdefault(url.path, []).append({k: v[0] for k, v in parse_qs(url.query).items()})
                body = b""
                if url.path == "/schedule":
                    body = json.dumps({"idle": True, "nvidiaIndex": 0, "nvidiaUUID": "GPU-fake",
                                       "allowToken": f"allow-{len(owner.calls['/schedule'])}"}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _no_real_gpu() -> None:
    """Once `app.py` has imported `spaces`, its GPU attachment becomes a no-op (there is no GPU)."""
    while (zt := sys.modules.get("spaces.zero.torch")) is None or not hasattr(zt, "is_in_bad_fork"):
        time.sleep(0.005)
    zt.init = lambda nvidia_uuid: None  # CUDA_VISIBLE_DEVICES and the first CUDA tensor
    zt.move = lambda callback=None: None  # the packed tensors onto that GPU


if __name__ == "__main__":
    import torch

    def no_cuda() -> None:
        raise RuntimeError("Torch not compiled with CUDA enabled")

    torch.version.cuda = "12.8"  # what spaces' CUDA emulation reads of the build
    if not hasattr(torch._C, "_cuda_init"):
        torch._C._cuda_init = no_cuda  # what it replaces with its own while it emulates CUDA
    torch.cuda._is_in_bad_fork = bool  # () -> False, as CUDA builds answer before CUDA is used
    threading.Thread(target=_no_real_gpu, daemon=True).start()
    sys.path.insert(0, str(ROOT))
    sys.argv = [str(ROOT / "app.py")]
    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")
