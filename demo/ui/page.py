"""The whole page as its events name it: the session state, each step's components and the
results; a step's `wire` reaches the other steps' components only through this."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from demo.ui.avatar import AvatarStep
from demo.ui.fitting import FittingStep
from demo.ui.garment import GarmentStep
from demo.ui.history import HistoryStep
from demo.ui.photo import PhotoStep
from demo.ui.results import Results
from demo.ui.state import PageState


@dataclass
class Page:
    """One page's parts, made by build_ui; the output lists are in the order the Results tuples fill."""

    state: PageState
    results: Results
    photo: PhotoStep
    garment: GarmentStep
    avatar: AvatarStep
    fitting: FittingStep
    history: HistoryStep

    @property
    def garment_outputs(self) -> list[gr.components.Component]:
        """What showing a garment sets, in Results.garment's order."""
        return [self.state.garment_id, self.photo.cutout, self.garment.view, self.photo.status, self.garment.files,
                self.garment.turntable, self.state.history, self.history.garments, self.avatar.outfit,
                self.garment.link]

    @property
    def fit_outputs(self) -> list[gr.components.Component]:
        """What showing a fitting sets, in Results.fitting's order."""
        return [self.fitting.view, self.fitting.status, self.fitting.report, self.fitting.files, self.state.history,
                self.history.fits, self.fitting.link, self.state.fitting_id]

    @property
    def actions(self) -> list[gr.Button]:
        """The buttons that start a job: disabled until the page's load is done (session.Session.wire)."""
        return [self.photo.generate_btn, self.photo.import_btn, self.avatar.build_btn, self.avatar.fit_btn]

    @property
    def garment_progress(self) -> gr.components.Component:
        """Where showing a garment draws its progress: the one viewer, not each of its ten outputs.
        Gradio's page redraws every component that has shown a progress at each progress message
        (its timer, a copy of its value), which on a slow machine held the viewer's update back."""
        return self.garment.view

    @property
    def fit_progress(self) -> gr.components.Component:
        """Where showing a fitting draws its progress (garment_progress says why only one)."""
        return self.fitting.view

    def with_extras(self, event: gr.events.Dependency, kind: str) -> None:
        """After an event that shows a garment or a fitting: its extras, quietly (no progress, and
        no progress state on its outputs either: garment_progress says why)."""
        state = self.state
        if kind == "garment":
            event.success(self.results.on_garment_extras, [state.garment_id, state.history, state.me],
                          [self.garment.files, self.garment.turntable, self.history.garments],
                          api_visibility="private", show_progress="hidden", show_progress_on=self.garment.files)
        else:
            event.success(self.results.on_fit_extras, [state.fitting_id, state.history, state.me], self.history.fits,
                          api_visibility="private", show_progress="hidden", show_progress_on=self.history.fits)

    def show_bare_avatar(self, listen: Callable[..., gr.events.Dependency]) -> None:
        """After an event (`listen` is its .then or .success) that may change the avatar: step 4
        shows the avatar bare until something is fitted."""
        state = self.state
        listen(self.fitting.bare_avatar, [state.avatar_id, state.fitting_id, state.me],
               [self.fitting.view, self.fitting.status], api_visibility="private", show_progress="hidden",
               show_progress_on=self.fitting.status)
