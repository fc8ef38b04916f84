"""The page's load: who the visitor is (a Space login, the sealed token their browser kept, or a
new anonymous visitor), their recent garments and fittings, the avatars; then the record the
page's permalink names (/?garment=<id>, /?fitting=<id>), for its owner only."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from core.identity import Caller
from core.models import Cloth3D, FittingSession
from core.service import FitroomService
from demo.origin import base_url
from demo.ui import view
from demo.ui.errors import handled
from demo.ui.results import Results, outfit_box
from demo.ui.state import linked

if TYPE_CHECKING:  # wire's annotation only: the page imports this module
    from demo.ui.page import Page


class Session:
    """The load's handlers, for one page."""

    def __init__(self, service: FitroomService, results: Results) -> None:
        self.service, self.results = service, results
        self.actions = 0  # how many buttons the load enables (wire counts them)

    def wire(self, page: Page, blocks: gr.Blocks) -> None:
        """The load, then the garment link, then the fitting link, then (nothing fitted) the bare avatar."""
        state, avatar = page.state, page.avatar
        loaded = blocks.load(self.on_load, state.token_box,
                             [state.token_box, state.me, state.history, page.history.garments, page.history.fits,
                              avatar.outfit, state.avatars, state.avatar_id, avatar.gallery, avatar.status],
                             api_visibility="private", show_progress_on=avatar.gallery)
        linked_garment = loaded.then(self.on_garment_link, [state.history, avatar.outfit, state.me],
                                     page.garment_outputs, api_visibility="private",
                                     show_progress_on=page.garment_progress)
        page.with_extras(linked_garment, "garment")
        linked_fit = linked_garment.then(self.on_fit_link, [state.history, state.me], page.fit_outputs,
                                         api_visibility="private", show_progress_on=page.fit_progress)
        page.with_extras(linked_fit, "fitting")
        page.show_bare_avatar(linked_fit.then)
        # The buttons start disabled (page.Page.actions): clicked while the load still ran, their
        # events went out with no caller yet, or had their outcome overwritten by the load's own
        # updates. Enabled after the load's last event, whatever became of it.
        self.actions = len(page.actions)
        linked_fit.then(self.on_ready, None, page.actions, api_visibility="private", show_progress="hidden")

    def visitor(self, sealed: str | None, request: gr.Request) -> tuple[str, Caller]:
        """The visitor's token and caller, at the root URL the page was opened at."""
        client = request.client.host if request.client else None
        identity = self.service.identity
        if username := getattr(request, "username", None):  # a Hugging Face login on a Space
            caller = identity.for_login(username, client)
            token = identity.token_for(caller.user_id)
        elif (token := identity.unseal(sealed)) and (user_id := identity.verify(token)):
            caller = Caller(user_id, client)
        else:  # a first visit (or a token we did not sign): a new anonymous visitor
            issued = self.service.new_token(client)
            token, caller = issued["token"], Caller(issued["user_id"], client)
        return token, caller.at(base_url(request.request))

    def history(self, caller: Caller) -> list[dict]:
        """The caller's finished garments and fittings, newest first."""
        entries = [("garment", g["id"], view.garment_label(g), g["category"])
                   for g in self.service.list_garments(caller, view.MAX_HISTORY) if g["status"] == "done"]
        entries += [("fitting", f["id"], view.fitting_label(f), None)
                    for f in self.service.list_fittings(caller, view.MAX_HISTORY) if f["status"] == "done"]
        hist: list[dict] = []
        for kind, job_id, label, cat in reversed(entries):  # oldest first, so the newest ends first
            hist = view.remember(hist, kind, job_id, label, cat)
        return hist

    @handled
    def on_load(self, sealed, request: gr.Request):
        """The page opened: its token sealed again, the caller, their history and the avatars (the first picked)."""
        token, caller = self.visitor(sealed, request)
        hist = self.history(caller)
        rows = self.service.list_presets(caller)
        first = rows[0]["id"] if rows else None
        thumbs = self.results.thumbs
        return (self.service.identity.seal(token), caller, hist, thumbs(view.of_kind(hist, "garment"), caller),
                thumbs(view.of_kind(hist, "fitting"), caller), outfit_box(hist), rows, first,
                self.results.avatar_gallery(rows, first, caller),
                view.avatar_line(rows[0]) if rows else "No avatars yet.")

    @handled
    def on_ready(self) -> list[gr.Button]:
        """The load done: the buttons that start a job can be clicked."""
        return [gr.Button(interactive=True)] * self.actions

    @handled
    def on_garment_link(self, hist, chosen, caller, request: gr.Request):
        """/?garment=<id>: that garment in step 2; without it, nothing changes."""
        if (job := linked(self.service, request, Cloth3D, caller)) is None:
            return gr.skip()  # one skip leaves every output as it is
        return self.results.garment(job["id"], "opened from its link", hist, chosen, caller, request)

    @handled
    def on_fit_link(self, hist, caller, request: gr.Request):
        """/?fitting=<id>: that fitting in step 4; without it, nothing changes."""
        if (job := linked(self.service, request, FittingSession, caller)) is None:
            return gr.skip()
        return self.results.fitting(job, hist, caller, request)
