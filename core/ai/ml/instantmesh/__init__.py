"""InstantMesh (sparse-view large reconstruction model): DINO encoder with camera modulation,
triplane transformer, triplane heads, and surface extraction (FlexiCubes or marching cubes)."""
