"""`motrans web`: the whole of `motrans animate` in a browser page (Gradio), a thin layer over the Python API."""

from .server import WebOptions, serve

__all__ = ["WebOptions", "serve"]
