"""Fittings: the caller's garments dressed on an avatar by a job, and the caller's fittings listed.
Everything a fit needs is checked here, before the job is queued and its quota spent."""

from __future__ import annotations

from core.choices import Ease, pick
from core.context import Context
from core.db import session_scope
from core.errors import InputError, NotFound
from core.identity import Caller
from core.jobs import JobRunner
from core.models import DONE, AvatarPreset, Cloth3D, FittingSession
from core.quotas import Quotas
from core.services.records import Records, parse_id, visible

MAX_LAYERS = 3


def layer_ids(cloth3d_id: str | list[str]) -> list[str]:
    """One garment id, or the layers inner first, as ids."""
    ids = [cloth3d_id] if isinstance(cloth3d_id, str) else list(cloth3d_id or [])
    if not ids:
        raise InputError("Give at least one cloth3d_id to fit.")
    if len(ids) > MAX_LAYERS:
        raise InputError(f"At most {MAX_LAYERS} garments can be fitted at once.")
    return [parse_id(i, "cloth3d_id") for i in ids]


class Fittings:
    def __init__(self, ctx: Context, runner: JobRunner, quotas: Quotas, records: Records) -> None:
        self.ctx, self.runner, self.quotas, self.records = ctx, runner, quotas, records

    def fit(self, cloth3d_id: str | list[str], avatar_preset_id: str, ease: str, tuck_in: bool,
            caller: Caller) -> dict:
        """A fitting job of the caller's finished garments on an avatar the caller may see."""
        ids = layer_ids(cloth3d_id)
        avatar_preset_id = parse_id(avatar_preset_id, "avatar_preset_id")
        ease = pick(Ease, ease, "ease")
        with session_scope(self.ctx.engine) as db:
            avatar = db.get(AvatarPreset, avatar_preset_id)
            if avatar is None or not visible(avatar, caller):
                raise NotFound(f"No avatar preset with id {avatar_preset_id}.")
            if avatar.status != DONE:
                raise InputError(f"The avatar {avatar_preset_id} is {avatar.status}; fit once it is done.")
            for gid in ids:
                g = db.get(Cloth3D, gid)
                if g is None or not visible(g, caller):
                    raise NotFound(f"No 3D garment with id {gid}.")
                if g.status != DONE:
                    raise InputError(f"The 3D garment {gid} is {g.status}; fit it once it is done.")
            self.quotas.check_job(caller.user_id, caller.client)
            job = FittingSession(user_id=caller.user_id, cloth3d_id=ids[0], layers=ids,
                                 avatar_preset_id=avatar_preset_id, stage="queued",
                                 params={"offset_mm": self.ctx.settings.clearance_mm, "ease": ease,
                                         "tuck_in": bool(tuck_in)})
            db.add(job)
            db.commit()
        self.runner.submit(FittingSession, job.id, self.ctx.settings.fit_timeout_s, owner=caller.user_id)
        return self.records.of(job, caller.base_url)

    def list_fittings(self, caller: Caller, limit: int, after: str | None) -> list[dict]:
        """The caller's fitting sessions, newest first, a page at a time."""
        return self.records.page(FittingSession, caller, limit, after)
