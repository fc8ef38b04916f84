"""The faces of Fitroom 3D: REST routes, the Gradio UI and API. They translate, never decide."""
