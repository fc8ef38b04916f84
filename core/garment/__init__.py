"""Garment parsing: a parametric sewing pattern per category, fitted to the front silhouette, gives
the category, the sleeve or leg type, the outline's landmarks and each point's part (see parse.py)."""
