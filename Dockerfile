# Fitroom 3D on a CUDA runtime: the app (`python app.py`) by default, or a Celery worker
# (`celery -A core.celery_app worker`) with the same image. Build:
#   docker build -t fitroom3d .                                  # weights fetched lazily at run time
#   docker build --build-arg PRELOAD_WEIGHTS=1 -t fitroom3d .    # weights baked into the image
#   docker build --build-arg PRELOAD_WEIGHTS=1 --build-arg REMBG_MODEL=isnet-general-use -t fitroom3d .
#                                                                # the cut-out's model chosen (SEGMENTER, REMBG_MODEL)
FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

ARG PRELOAD_WEIGHTS=0
ARG SEGMENTER=auto
ARG REMBG_MODEL=u2net
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    ANNY_CACHE_DIR=/opt/cache/anny \
    WARP_CACHE_PATH=/opt/cache/warp \
    U2NET_HOME=/opt/models/u2net \
    SEGMENTER=$SEGMENTER \
    REMBG_MODEL=$REMBG_MODEL \
    DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=7860

# Python 3.11 from Ubuntu 22.04's updates; libgomp and glib for the numeric and image wheels.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3.11 python3.11-venv libgomp1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && python3.11 -m venv /opt/venv \
    && useradd --create-home --uid 1000 fitroom

WORKDIR /app
# Dependencies first: a code change does not reinstall them. The PyPI torch wheel of the pinned
# version carries its own CUDA libraries. rembg + onnxruntime (in requirements.txt) give the learned cut-out.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY --chown=1000:1000 . .

# anny builds its model cache (about 800 MB) on first use: build it now, so that a custom avatar
# does not pay for it at run time. The cut-out's model (the one SEGMENTER and REMBG_MODEL choose):
# baked in, or fetched on first use (REMBG_DOWNLOAD=1 below).
RUN mkdir -p /opt/cache /opt/models /data \
    && python -c "from core.avatars.builder import ensure_model_cache; ensure_model_cache()" \
    && if [ "$PRELOAD_WEIGHTS" = "1" ]; then python -c "from core.ai.segment import preload; preload()"; fi \
    && chown -R 1000:1000 /opt/cache /opt/models /data

ENV REMBG_DOWNLOAD=1
USER 1000:1000
VOLUME ["/data"]
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"7860\")}/healthz', timeout=8)"]
CMD ["python", "app.py"]
