"""Serving through Gradio's own launch(), as a ZeroGPU Space needs: ZeroGPU's start-up hook (it
packs the models loaded so far and reports the decorated GPU functions) runs when launch() is
called, and its GPU processes close the server's sockets by the port launch() records.

The same app as demo/server.py's: its REST routes, middleware and handlers are put on the
FastAPI app that Gradio then serves (Gradio's own `App`), so REST, the Gradio API and the page
share one process and one port, as with the mounted app that uvicorn serves elsewhere.
"""

from __future__ import annotations

import os

from gradio.routes import App

from core.config import Settings
from demo.server import build_app


def serve(settings: Settings, host: str, port: int, trusted_proxies: str) -> None:
    """Serve until the process ends."""
    # Gradio's uvicorn reads the proxies whose X-Forwarded-For names the client from the environment.
    os.environ.setdefault("FORWARDED_ALLOW_IPS", trusted_proxies)
    app, blocks, options = build_app(settings, App)
    # launch() replaces the app's lifespan with Gradio's, which runs the one passed here inside it.
    blocks.launch(server_name=host, server_port=port, _app=app, app_kwargs={"lifespan": app.router.lifespan_context},
                  ssr_mode=False, **options)
