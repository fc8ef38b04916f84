"""Avatars: the public presets listed, and custom bodies built from measurements by a job, each
its owner's alone (a body's measurements are personal)."""

from __future__ import annotations

from sqlalchemy import false
from sqlalchemy.exc import IntegrityError
from sqlmodel import or_, select

from core.avatars.builder import BUILD
from core.avatars.custom import Measurements
from core.context import Context
from core.db import session_scope
from core.errors import InputError
from core.identity import Caller
from core.jobs import JobRunner
from core.models import DONE, ERROR, PROCESSING, AvatarPreset
from core.quotas import Quotas
from core.services.records import MAX_LIST, Records


class Avatars:
    def __init__(self, ctx: Context, runner: JobRunner, quotas: Quotas, records: Records) -> None:
        self.ctx, self.runner, self.quotas, self.records = ctx, runner, quotas, records

    def list_presets(self, caller: Caller | None, base_url: str) -> list[dict]:
        """The seeded presets (public), then the caller's own custom avatars that are ready.
        `base_url`: where a caller without a credential reached the app (a Caller carries its own)."""
        base_url = caller.base_url if caller else base_url.rstrip("/")
        mine = (AvatarPreset.user_id == caller.user_id) if caller else false()
        with session_scope(self.ctx.engine) as db:
            rows = db.exec(select(AvatarPreset).where(AvatarPreset.status == DONE)
                           .where(or_(AvatarPreset.is_custom == False, mine))  # noqa: E712 - SQL
                           .order_by(AvatarPreset.is_custom, AvatarPreset.height_cm).limit(MAX_LIST)).all()
        return [self.records.of(r, base_url) for r in rows]

    def create_avatar(self, height_cm: float, chest_cm: float, waist_cm: float, hips_cm: float, gender: str,
                      caller: Caller) -> dict:
        """The same measurements return the same avatar to the same user: built, being built, or
        built again in place when an older build of the bodies made it (its fittings keep it)."""
        user_id = caller.user_id
        try:
            m = Measurements(float(height_cm), float(chest_cm), float(waist_cm), float(hips_cm), str(gender))
        except (TypeError, ValueError):
            raise InputError("Measurements must be numbers in centimetres.") from None
        slug = f"{m.key}-{user_id}"
        with session_scope(self.ctx.engine) as db:
            row = db.exec(select(AvatarPreset).where(AvatarPreset.slug == slug)).first()
            if row is not None and row.status == DONE and row.params.get("build") != BUILD:
                self.quotas.check_job(user_id, caller.client)
                row.status, row.stage, row.log, row.params = PROCESSING, "queued", None, m.__dict__.copy()
                db.add(row)
                db.commit()
                self.runner.submit(AvatarPreset, row.id, self.ctx.settings.generate_timeout_s, owner=user_id)
                return self.records.of(row, caller.base_url)
            if row is not None and row.status != ERROR:
                return self.records.of(row, caller.base_url)  # built, or being built: not again
            self.quotas.check_job(user_id, caller.client)  # a new body is built: bounded per client
            self.quotas.check_avatar(user_id, caller.client)
            if row is not None:
                db.delete(row)  # a failed attempt is retried
                db.commit()
            row = AvatarPreset(slug=slug, name=f"Custom {m.gender}, {m.height_cm:g} cm", height_cm=m.height_cm,
                               gender=m.gender, is_custom=True, status=PROCESSING, stage="queued",
                               user_id=user_id, params=m.__dict__.copy(),
                               notes=f"chest {m.chest_cm:g}, waist {m.waist_cm:g}, hips {m.hips_cm:g} cm")
            db.add(row)
            try:
                db.commit()
            except IntegrityError:  # the same measurements asked at the same moment
                db.rollback()
                return self.records.of(db.exec(select(AvatarPreset).where(AvatarPreset.slug == slug)).one(),
                                       caller.base_url)
        self.runner.submit(AvatarPreset, row.id, self.ctx.settings.generate_timeout_s, owner=user_id)
        return self.records.of(row, caller.base_url)
