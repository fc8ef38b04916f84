"""The custom-avatar kind: anny's phenotype solved for the asked measurements, then stored."""

from __future__ import annotations

from core.avatars.builder import BUILD
from core.avatars.custom import Measurements, solve
from core.jobs.kinds import Done, Job, JobKind
from core.keys import avatar_keys
from core.mesh.export import draco_compress_glb, mesh_to_glb
from core.mesh.render import render
from core.models import AvatarPreset
from core.pipeline import png_bytes


def build_avatar(job: Job) -> Done:
    """The body nearest the requested measurements, stored as GLB, Draco GLB and a thumbnail; the
    row keeps how far each measurement is from the request."""
    job.stage("solving")
    solved = solve(Measurements(**job.row.params))
    job.stage("export")
    glb = mesh_to_glb(solved.body.mesh, name="avatar")
    keys = avatar_keys(job.id)
    storage = job.ctx.storage
    storage.put_bytes(keys["glb_key"], glb, "model/gltf-binary")
    storage.put_bytes(keys["gltf_key"], draco_compress_glb(glb), "model/gltf-binary")
    storage.put_bytes(keys["thumb_key"], png_bytes(render([solved.body.mesh], yaw_deg=15)), "image/png")
    off = ", ".join(f"{k} {v:+.1f} cm" for k, v in solved.error_cm.items())
    return Done({"landmarks": solved.body.landmarks, "measurements": solved.body.measurements,
                 "log": f"measured against the request: {off}",
                 "params": job.row.params | {"phenotype": solved.body.phenotype, "error_cm": solved.error_cm,
                                             "build": BUILD}, **keys})


AVATAR = JobKind(AvatarPreset, ("solving", "export"), time_limit="generate_timeout_s", gpu=False, work=build_avatar)
