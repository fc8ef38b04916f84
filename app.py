"""Entry point: `python app.py` serves the Fitroom 3D demo (UI, Gradio API and REST) on one port."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from core import gpu

if __name__ == "__main__":  # the serving process only: the job pool's workers import this file too
    gpu.activate()  # on a ZeroGPU Space, `spaces` patches torch before anything imports torch

import uvicorn

from core.config import bind_address, get_settings, trusted_proxies
from core.logs import configure_logging
from demo.server import create_app
from demo.timeouts import header_timeout_protocol


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    host, port = bind_address(settings, dict(os.environ))
    if gpu.active():  # ZeroGPU: models loaded now, then served through launch(), which starts ZeroGPU
        from core.ai.ml.startup import prepare_zero_gpu
        from demo.launch import serve

        prepare_zero_gpu(settings)
        serve(settings, host, port, trusted_proxies(dict(os.environ)))
        return
    app = create_app(settings)
    # h11 (what uvicorn picks without httptools), with a time limit on request heads added.
    protocol = header_timeout_protocol(settings.header_timeout_s, settings.keep_alive_s)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, http=protocol,
                timeout_keep_alive=settings.keep_alive_s, timeout_graceful_shutdown=5,
                forwarded_allow_ips=trusted_proxies(dict(os.environ)))


if __name__ == "__main__":
    main()
