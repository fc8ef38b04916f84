"""The GPU path: Zero123++ v1.2 multi-view diffusion + InstantMesh reconstruction.

Written in this project from the published architecture (see `core/ai/ml/instantmesh`,
`multiview.py`), so that the official weights load unchanged. Importing this package needs torch;
`diffusers`/`transformers` are imported only where the multi-view model is built.
"""

# The stages reconstruct.py publishes, in order (within the garment job's "reconstruction").
STAGES = ("weights", "loading models", "multi-view", "triplanes", "surface", "decimate", "colour")
