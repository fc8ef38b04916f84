"""Mesh stages shared by every reconstructor and the fitting: frames, cleanup, export, rendering."""
