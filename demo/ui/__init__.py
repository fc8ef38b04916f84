"""Gradio Blocks: the fitting-room page and the Gradio API endpoints."""
