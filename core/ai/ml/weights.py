"""Where the weights come from: `MODEL_PATH`; else the Hugging Face cache where the files are
already there (a Space's `preload_from_hub` puts them there at build time); else a download with
huggingface_hub on first use.

All three share one layout, that of the two Hugging Face repositories:

    zero123plus-v1.2/   sudo-ai/zero123plus-v1.2 (diffusers folders; the UNet's config only)
    InstantMesh/        TencentARC/InstantMesh: diffusion_pytorch_model.bin (white-background
                        UNet) and instant_mesh_{large,base}.ckpt
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.config import Settings
from core.errors import Unavailable

log = logging.getLogger("fitroom.weights")

ZERO123_REPO, ZERO123_DIR = "sudo-ai/zero123plus-v1.2", "zero123plus-v1.2"
INSTANTMESH_REPO, INSTANTMESH_DIR = "TencentARC/InstantMesh", "InstantMesh"
WHITE_UNET = "diffusion_pytorch_model.bin"
# Everything of Zero123++ but its UNet weights, which the white-background fine-tune replaces.
ZERO123_FILES = ("model_index.json", "unet/config.json", "vae/*", "text_encoder/*", "tokenizer/*",
                 "vision_encoder/*", "feature_extractor_clip/*", "feature_extractor_vae/*", "scheduler/*")
ZERO123_REQUIRED = ("model_index.json", "unet/config.json", "vae/config.json", "text_encoder/config.json",
                    "tokenizer/tokenizer_config.json", "vision_encoder/config.json",
                    "feature_extractor_clip/preprocessor_config.json",
                    "feature_extractor_vae/preprocessor_config.json", "scheduler/scheduler_config.json")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class WeightFiles:
    zero123: Path
    white_unet: Path
    instantmesh: Path


def checkpoint_name(variant: str) -> str:
    return f"instant_mesh_{variant}.ckpt"


def root(settings: Settings) -> Path:
    return settings.model_path or settings.cache_dir / "models"


def expected(settings: Settings) -> WeightFiles:
    """Where the weights are, or are to be downloaded to."""
    if not settings.model_path and (cached := hub_cache(settings.instantmesh_variant)) is not None:
        return cached
    r = root(settings)
    return WeightFiles(r / ZERO123_DIR, r / INSTANTMESH_DIR / WHITE_UNET,
                       r / INSTANTMESH_DIR / checkpoint_name(settings.instantmesh_variant))


def hub_cache(variant: str) -> WeightFiles | None:
    """The files in the Hugging Face cache (the snapshots that `preload_from_hub` fills), when every
    required one is there; None otherwise. Nothing is downloaded."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = {(repo, name): try_to_load_from_cache(repo, name)
             for repo, name in [(ZERO123_REPO, f) for f in ZERO123_REQUIRED]
             + [(INSTANTMESH_REPO, WHITE_UNET), (INSTANTMESH_REPO, checkpoint_name(variant))]}
    if not all(isinstance(path, str) for path in found.values()):
        return None
    ckpt = checkpoint_name(variant)
    files = WeightFiles(Path(found[ZERO123_REPO, "model_index.json"]).parent,
                        Path(found[INSTANTMESH_REPO, WHITE_UNET]), Path(found[INSTANTMESH_REPO, ckpt]))
    return None if missing(files) else files


def missing(files: WeightFiles) -> list[str]:
    """The files of the layout that are not there (relative names)."""
    out = [f"{ZERO123_DIR}/{name}" for name in ZERO123_REQUIRED if not (files.zero123 / name).is_file()]
    out += [f"{INSTANTMESH_DIR}/{p.name}" for p in (files.white_unet, files.instantmesh) if not p.is_file()]
    return out


def status(settings: Settings) -> tuple[bool, str]:
    """Whether the weights can be had, and where from (nothing is downloaded here)."""
    files = expected(settings)
    gone = missing(files)
    if not gone:
        where = ("MODEL_PATH" if settings.model_path else "the download cache"
                 if files.zero123.parent == root(settings) else "the Hugging Face cache")
        return True, f"weights in {where}"
    if settings.model_path:
        return False, f"MODEL_PATH lacks {', '.join(gone[:3])}{' …' if len(gone) > 3 else ''}"
    if settings.model_download:
        return True, "weights will be downloaded from Hugging Face on first use (about 5 GB)"
    return False, "no MODEL_PATH and MODEL_DOWNLOAD is off"


def ensure(settings: Settings, progress: Progress | None = None) -> WeightFiles:
    """The weight files, downloading what is missing when allowed; each file is announced in the
    log and to `progress` (the job's stage, which the UI shows)."""
    files = expected(settings)
    gone = missing(files)
    if not gone:
        return files
    if settings.model_path or not settings.model_download:
        raise Unavailable(f"Model weights missing: {', '.join(gone)}.")
    try:
        _download(root(settings), settings.instantmesh_variant, progress or (lambda _: None))
    except Exception as exc:  # network, auth, disk: all end as one clear message
        raise Unavailable(f"Downloading the model weights failed: {type(exc).__name__}: {exc}") from exc
    return files


def _download(dest: Path, variant: str, progress: Progress) -> None:
    from huggingface_hub import hf_hub_download, list_repo_files

    wanted = [(ZERO123_REPO, ZERO123_DIR, f) for f in list_repo_files(ZERO123_REPO)
              if any(fnmatch.fnmatch(f, p) for p in ZERO123_FILES)]
    wanted += [(INSTANTMESH_REPO, INSTANTMESH_DIR, f) for f in (WHITE_UNET, checkpoint_name(variant))]
    for i, (repo, folder, name) in enumerate(wanted, 1):
        if (dest / folder / name).is_file():
            continue
        line = f"downloading weights {i}/{len(wanted)}: {repo}/{name}"
        log.info(line)
        progress(line)
        hf_hub_download(repo, name, local_dir=dest / folder)


if __name__ == "__main__":  # prefetch: python -m core.ai.ml.weights (e.g. at image build or Space start)
    from core.config import get_settings

    print(ensure(get_settings(), print))
