"""THE operations, as the faces call them. The Gradio UI, the Gradio API and the REST routes call
only this facade, which hands each call to the service of its concern (core/services/), so that
their contracts stay one list of methods while each concern stays small."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from sqlmodel import SQLModel

from core.context import Context
from core.identity import Caller, Identity
from core.jobs import JobRunner
from core.quotas import Quotas
from core.schemas import Token
from core.services.avatars import Avatars
from core.services.fittings import Fittings
from core.services.garments import BACK_PHOTO, Garments
from core.services.operations import Operations
from core.services.records import Records

__all__ = ["BACK_PHOTO", "FitroomService"]


class FitroomService:
    def __init__(self, ctx: Context, runner: JobRunner) -> None:
        self.ctx = ctx
        self.runner = runner
        self.identity = Identity(ctx.settings, ctx.engine)
        self.quotas = Quotas(ctx.settings, ctx.engine)
        self.records = Records(ctx)
        self.operations = Operations(ctx, runner)
        self.garments = Garments(ctx, runner, self.quotas, self.records)
        self.avatars = Avatars(ctx, runner, self.quotas, self.records)
        self.fittings = Fittings(ctx, runner, self.quotas, self.records)

    # -- operations: start-up and health --------------------------------------------------------
    def start(self) -> dict:
        return self.operations.start()

    def warm_up(self) -> None:
        self.operations.warm_up()

    def seed_presets(self) -> int:
        return self.operations.seed_presets()

    def health(self) -> dict[str, str]:
        return self.operations.health()

    # -- identity -------------------------------------------------------------------------------
    def new_token(self, client: str | None = None) -> dict:
        """A new anonymous user and its bearer token."""
        self.quotas.check_token(client)
        user_id, token = self.identity.issue()
        return Token(token=token, user_id=user_id, token_type="bearer").model_dump()

    def caller(self, credential: str | None, client: str | None = None) -> Caller:
        """The verified caller of a token or API key (401 without one)."""
        return self.identity.caller(credential, client)

    # -- garments -------------------------------------------------------------------------------
    def upload_image(self, stream: BinaryIO, filename: str | None = None, back: BinaryIO | None = None, *,
                     caller: Caller) -> dict:
        return self.garments.upload_image(stream, filename, back, caller)

    def upload_garment_3d(self, stream: BinaryIO, filename: str | None = None, category: str | None = None,
                          units: str = "auto", up: str = "auto", *, caller: Caller) -> dict:
        return self.garments.upload_garment_3d(stream, filename, category, units, up, caller)

    def generate_3d(self, cloth_id: str, model: str = "auto", quality: str = "low",
                    category: str | None = None, *, caller: Caller) -> dict:
        return self.garments.generate_3d(cloth_id, model, quality, category, caller)

    def list_garments(self, caller: Caller, limit: int = 50, after: str | None = None) -> list[dict]:
        return self.garments.list_garments(caller, limit, after)

    # -- avatars --------------------------------------------------------------------------------
    def list_presets(self, caller: Caller | None = None, *, base_url: str = "") -> list[dict]:
        return self.avatars.list_presets(caller, base_url)

    def create_avatar(self, height_cm: float, chest_cm: float, waist_cm: float, hips_cm: float,
                      gender: str, *, caller: Caller) -> dict:
        return self.avatars.create_avatar(height_cm, chest_cm, waist_cm, hips_cm, gender, caller)

    # -- fittings -------------------------------------------------------------------------------
    def fit(self, cloth3d_id: str | list[str], avatar_preset_id: str, ease: str = "regular",
            tuck_in: bool = False, *, caller: Caller) -> dict:
        return self.fittings.fit(cloth3d_id, avatar_preset_id, ease, tuck_in, caller)

    def list_fittings(self, caller: Caller, limit: int = 50, after: str | None = None) -> list[dict]:
        return self.fittings.list_fittings(caller, limit, after)

    # -- any record -----------------------------------------------------------------------------
    def get_result(self, job_id: str, kind: type[SQLModel] | None = None, *, caller: Caller) -> dict:
        """Any job of the caller's by id: a 3D garment (generation), a fitting session or an avatar
        (presets are everyone's). Another user's row does not exist for the caller."""
        return self.records.get_result(job_id, kind, caller)

    def model_url(self, job_id: str, *, caller: Caller, wait_s: int = 0) -> str | None:
        """A garment's or a fitting's model URL for a viewer in the page: see Records.model_url."""
        return self.records.model_url(job_id, caller, wait_s)

    def local_files(self, job_id: str, *, caller: Caller) -> dict[str, Path]:
        """Local copies of a finished job's files (or a preset's), for viewers in this process."""
        return self.records.local_files(job_id, caller)
