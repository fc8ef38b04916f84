"""Operations: what a start does (schema, jobs a dead process left, preset seeding), warming this
process, and health, each dependency really exercised."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core.ai.reconstructors import resolve
from core.avatars.presets import PresetFiles, load_presets
from core.context import Context
from core.db import check_db, fail_interrupted_jobs, init_db, session_scope
from core.errors import NotFound
from core.jobs import JobRunner
from core.keys import preset_keys
from core.models import AvatarPreset, utcnow
from core.pipeline import draco_compress_glb

GLB = "model/gltf-binary"


class Operations:
    def __init__(self, ctx: Context, runner: JobRunner) -> None:
        self.ctx, self.runner = ctx, runner

    def start(self) -> dict:
        """Create tables, end jobs a dead process left running, seed the presets."""
        init_db(self.ctx.engine)
        # Inline jobs died with the previous process; Celery workers' jobs live on without the API
        # (the CeleryRunner's sweep ends those whose worker died).
        interrupted = fail_interrupted_jobs(self.ctx.engine) if self.ctx.settings.worker == "inline" else 0
        seeded = self.seed_presets()
        return {"interrupted_jobs": interrupted, "seeded_presets": seeded}

    def warm_up(self) -> None:
        """What this process's own first requests would pay for: generate_3d's check of the GPU path
        (it imports torch where installed, seconds on a cold disk). The job workers warm themselves."""
        resolve("auto", self.ctx.settings)

    def seed_presets(self) -> int:
        """Idempotent: a preset already in the DB (by slug) is not added again. A preset whose
        committed files were rebuilt (its landmarks or measurements differ from the row's) is
        brought up to date, files and row, under the same id: fittings made on it keep pointing at it."""
        added = 0
        for files in load_presets():
            meta = files.meta
            with session_scope(self.ctx.engine) as s:
                row = s.exec(select(AvatarPreset).where(AvatarPreset.slug == files.slug)).first()
                rebuilt = row is not None and (row.landmarks, row.measurements) != (meta["landmarks"],
                                                                                  meta["measurements"])
                self._put_files(files, again=rebuilt)
                if rebuilt:
                    row.landmarks, row.measurements = meta["landmarks"], meta["measurements"]
                    row.height_cm, row.updated_at = meta["height_cm"], utcnow()
                    s.add(row)
                    s.commit()
                if row is not None:
                    continue
                s.add(AvatarPreset(slug=files.slug, name=meta["name"], height_cm=meta["height_cm"],
                                   gender=meta["gender"], notes=meta.get("notes"), landmarks=meta["landmarks"],
                                   measurements=meta["measurements"], **preset_keys(files.slug)))
                try:
                    s.commit()
                    added += 1
                except IntegrityError:  # another process seeded it first
                    s.rollback()
        return added

    def _put_files(self, files: PresetFiles, again: bool) -> None:
        """A preset's files, put when asked `again` or when storage lacks them (after switching to S3,
        say) or holds another GLB than the committed one (a deployment seeded from older files)."""
        keys = preset_keys(files.slug)
        glb = files.glb.read_bytes()
        if again or not self._holds(keys["glb_key"], glb):
            self.ctx.storage.put_bytes(keys["glb_key"], glb, GLB)
            self.ctx.storage.put_bytes(keys["gltf_key"], draco_compress_glb(glb), GLB)
            self.ctx.storage.put_bytes(keys["thumb_key"], files.thumbnail.read_bytes(), "image/png")

    def _holds(self, key: str, data: bytes) -> bool:
        """Whether storage holds exactly `data` at `key`."""
        try:
            return self.ctx.storage.get_bytes(key) == data
        except NotFound:
            return False

    def health(self) -> dict[str, str]:
        """Each dependency really exercised; a failure is named, not hidden. With an in-process pool,
        its workers too: 'warming: …' until each has warmed, so that no one waits on a cold one."""
        checks: dict[str, str] = {}
        for name, probe in (("database", lambda: check_db(self.ctx.engine)),
                            ("storage", self.ctx.storage.check)):
            try:
                probe()
                checks[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - a health check reports, never raises
                checks[name] = f"failed: {exc}"
        if (workers := self.runner.health()) is not None:
            checks["workers"] = workers
        return checks
