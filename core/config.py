"""Settings read from the environment (pydantic-settings); defaults run fully embedded."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service. Names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    data_dir: Path = Path("data")
    db_url: str = ""  # default: sqlite file under data_dir
    s3_endpoint: str | None = None
    s3_key: str | None = None
    s3_secret: str | None = None
    s3_bucket: str = "fitroom"
    s3_region: str = "us-east-1"
    presign_expiry_s: int = Field(3600, ge=60, le=7 * 24 * 3600)  # file URLs, S3's and local ones alike
    # Signs file URLs (and tokens), through core.secrets; unset: a random key kept in DATA_DIR.
    secret_key: str | None = Field(None, min_length=32, repr=False)
    model_path: Path | None = None
    # The GPU path (zero123+instantmesh): see core/ai/ml and the README's "GPU path" section.
    model_download: bool = True  # without MODEL_PATH, fetch the weights from Hugging Face on first use
    ml_device: Literal["auto", "cuda", "cpu"] = "auto"  # cpu: only when asked (tests); auto = CUDA if present
    instantmesh_variant: Literal["large", "base"] = "large"
    ml_surface: Literal["flexicubes", "marching_cubes"] = "flexicubes"
    ml_texture: Literal["vertex", "map"] = "vertex"  # vertex colours, or a UV texture map (xatlas; slow)
    ml_steps_low: int = Field(28, ge=1, le=200)  # diffusion steps per quality
    ml_steps_med: int = Field(75, ge=1, le=200)
    ml_seed: int = 42
    gpu_concurrency: int = Field(1, ge=1, le=16)  # GPU jobs at once: the GPU lane's processes (core/jobs/pool.py)
    # ZeroGPU's `duration` per call by quality: the GPU time asked (a short ask is queued sooner); it
    # covers moving the models onto the GPU and the diffusion steps (28 at low, 75 at med).
    zerogpu_duration_low_s: int = Field(30, ge=5, le=600)
    zerogpu_duration_med_s: int = Field(60, ge=5, le=600)
    gpu_queue: str = "gpu"  # the Celery queue of GPU jobs (`celery ... worker -Q gpu`); the others: "celery"
    # The cut-out (core/ai/segment.py). auto: rembg when it is installed and its model is on disk or
    # may be downloaded (REMBG_DOWNLOAD, or on a Hugging Face Space), else the classical one, which
    # needs no weights; classical: always that one; rembg: rembg, downloading its model if need be.
    segmenter: Literal["auto", "classical", "rembg"] = "auto"
    rembg_model: str = Field("u2net", pattern=r"^[a-z0-9_-]+$")  # a rembg session name: u2net, isnet-general-use...
    rembg_download: bool = False  # let rembg fetch its model on first use
    space_id: str | None = None  # set by Hugging Face on a Space
    tmp_dir: Path | None = None  # default: data_dir/tmp
    log_level: str = "INFO"
    max_upload_mb: float = Field(10.0, gt=0)
    max_import_mb: float = Field(50.0, gt=0)
    gradio_upload_quota_mb: float = Field(2048.0, gt=0)  # Gradio's upload folder, all clients together
    max_image_side: int = Field(8192, ge=64)
    max_image_pixels: int = Field(40_000_000, ge=4096)
    generate_timeout_s: float = Field(180.0, gt=0)
    fit_timeout_s: float = Field(120.0, gt=0)
    job_workers: int = Field(2, ge=1, le=32)
    worker: Literal["inline", "celery"] = "inline"  # in-process pool, or Celery workers on Redis
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue_visibility_s: float | None = Field(None, gt=0)  # default: the longest time limit + 60 s
    stall_after_s: float | None = Field(None, gt=0)  # default: queue_visibility_s + 60 s
    # Quotas (core/quotas.py): per user, counted in the database (they hold across API processes and
    # Celery workers); per client address, counted in each API process's memory. An address is shared
    # by everyone behind one NAT, so its limits are a multiple of a user's.
    quota_jobs_in_flight: int = Field(3, ge=1)  # a user's jobs queued or running
    quota_custom_avatars_per_hour: int = Field(5, ge=1)
    quota_uploads_per_hour: int = Field(60, ge=1)  # photos and 3D imports
    quota_upload_mb_per_hour: float = Field(200.0, gt=0)
    quota_tokens_per_hour: int = Field(30, ge=1)  # new anonymous identities per address
    quota_address_jobs_in_flight: int = Field(12, ge=1)
    quota_address_custom_avatars_per_hour: int = Field(20, ge=1)
    quota_address_uploads_per_hour: int = Field(240, ge=1)
    quota_address_upload_mb_per_hour: float = Field(800.0, gt=0)
    quota_addresses: int = Field(4096, ge=16)  # addresses remembered per process; the least recent go first
    quota_job_retry_s: float = Field(20.0, gt=0)  # Retry-After hint when jobs in flight are at the limit
    clearance_mm: float = Field(4.0, ge=0.0, le=50.0)
    # Operator API keys, "name=key,name2=key2": each key is a Bearer credential for the user `name`.
    api_keys: str | None = Field(None, repr=False)
    token_max_age_days: float = Field(365.0, gt=0)  # anonymous tokens expire after this
    cors_origins: str = ""  # comma-separated origins allowed to call the API from a browser; none by default
    # Slow clients (demo/timeouts.py): a request head must be complete this long after the connection
    # opens; a body's next chunk may take this long, the whole body that; an idle kept-alive connection
    # is closed after keep_alive_s.
    header_timeout_s: float = Field(10.0, gt=0, le=300)
    body_timeout_s: float = Field(30.0, gt=0, le=600)
    body_deadline_s: float = Field(600.0, gt=0, le=3600)
    keep_alive_s: int = Field(5, ge=1, le=300)
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=0, le=65535)

    @property
    def resolved_db_url(self) -> str:
        return self.db_url or f"sqlite:///{(self.data_dir / 'fitroom.db').as_posix()}"

    @property
    def resolved_queue_visibility_s(self) -> float:
        """A queued job's message comes back to the queue after this long unacknowledged: longer than
        any job may run, so a running job is never handed to a second worker."""
        return self.queue_visibility_s or max(self.generate_timeout_s, self.fit_timeout_s) + 60

    @property
    def resolved_stall_after_s(self) -> float:
        return self.stall_after_s or self.resolved_queue_visibility_s + 60

    @property
    def resolved_tmp_dir(self) -> Path:
        return self.tmp_dir or self.data_dir / "tmp"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def bind_address(settings: Settings, environ: dict[str, str]) -> tuple[str, int]:
    """Where `python app.py` listens: HOST and PORT when set; on a Hugging Face Space (SPACE_ID is
    set there) 0.0.0.0:7860, where the Space's proxy looks; else loopback."""
    if "SPACE_ID" in environ and "HOST" not in environ:
        return "0.0.0.0", int(environ.get("PORT", 7860))
    return settings.host, settings.port


def trusted_proxies(environ: dict[str, str]) -> str:
    """Whose X-Forwarded-For names the client (per-address limits count it): FORWARDED_ALLOW_IPS, else
    on a Hugging Face Space every peer (the Space is reached only through its proxy), else loopback."""
    return environ.get("FORWARDED_ALLOW_IPS") or ("*" if "SPACE_ID" in environ else "127.0.0.1")
