"""What the page keeps per session, on the server: the gr.State contents, which job each session
shows now, the verified caller, and the record a permalink names.

Who the visitor is lives on the server: the browser keeps only its token, sealed with a key that
never leaves the server (BrowserState's own secret is sent to every page), and each session holds
the verified caller in a gr.State, which clients cannot write. The recent garments and fittings
are the caller's own rows, listed by the server."""

from __future__ import annotations

from collections import OrderedDict

import gradio as gr

from core.identity import Caller
from core.models import Cloth3D, FittingSession
from core.service import FitroomService
from demo.ui.errors import refused


class PageState:
    """The session's state components; made first, in this order, when the page is built."""

    def __init__(self) -> None:
        self.token_box = gr.BrowserState(None, storage_key="fitroom-token")  # only the sealed token
        self.me = gr.State(None)  # the verified caller: server-side, per session
        self.history = gr.State([])  # the caller's recent garments and fittings, from the server
        self.garment_id = gr.State(None)  # the garment step 2 shows
        self.fitting_id = gr.State(None)  # the fitting step 4 shows
        self.avatars = gr.State([])  # what the gallery shows, in its order (filled on page load)
        self.avatar_id = gr.State(None)
        self.other = gr.State(None)  # the category a garment auto was unsure of may be made again as


class Shown:
    """Which garment (step 2) and fitting (step 4) each page session shows now: a job's extras,
    which arrive a moment after it is shown, go to the page only if it still shows that job (a
    history tile clicked meanwhile wins). Bounded: the sessions seen longest ago are forgotten,
    and a forgotten session takes its extras."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self.ids: OrderedDict[tuple[str, str], str] = OrderedDict()

    def show(self, request: gr.Request | None, kind: str, job_id: str) -> None:
        if request is not None and request.session_hash:
            self.ids[(request.session_hash, kind)] = job_id
            self.ids.move_to_end((request.session_hash, kind))
            while len(self.ids) > self.limit:
                self.ids.popitem(last=False)

    def still(self, request: gr.Request | None, kind: str, job_id: str) -> bool:
        key = (request.session_hash if request is not None else None, kind)
        return self.ids.get(key, job_id) == job_id  # type: ignore[arg-type]


def verified(me: Caller | None) -> Caller:
    """The session's caller; none means the event came without the page."""
    if me is None:  # sent before the page's load was done (an example clicked at once), without
        # the page (by fn_index), or in a session that expired
        raise refused("The page is not ready: wait a moment and try again, or reload it.")
    return me


def linked(service: FitroomService, request: gr.Request | None, kind: type[Cloth3D] | type[FittingSession],
           caller: Caller | None) -> dict | None:
    """The finished record a permalink (/?garment=<id>, /?fitting=<id>) names, if it names one,
    fetched for the page's own caller (another user's is a 404)."""
    job_id = request.query_params.get("garment" if kind is Cloth3D else "fitting") if request else None
    if not job_id:
        return None
    job = service.get_result(job_id, kind, caller=verified(caller))
    if job["status"] != "done":
        raise refused(f"This link's record is {job['status']}: {job['log'] or 'not finished yet'}.")
    return job
