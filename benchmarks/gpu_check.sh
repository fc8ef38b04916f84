#!/usr/bin/env bash
# The device check for the GPU path: times the full-size architectures with random weights on one
# CUDA GPU (multi-view at the low and med step counts, InstantMesh-large, FlexiCubes at 128³, then
# marching cubes on the same planes) and reports peak VRAM. Goal: ≤ 10 s per garment, ≤ 12 GB.
# Needs a Python with the CUDA build of torch and requirements.txt installed (PYTHON to choose it).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA'; print('torch', torch.__version__, torch.version.cuda)"
timeout "${TIMEOUT_S:-480}" "$PY" benchmarks/ml_path.py --full --device cuda "$@"
