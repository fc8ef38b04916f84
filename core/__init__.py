"""Fitroom 3D core: the pipeline and the service layer, free of any UI or HTTP code."""
