"""Garment photo understanding and 2D-to-3D reconstruction."""
