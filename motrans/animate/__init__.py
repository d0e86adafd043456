"""Animation of a source image by a driving video: the streaming pipeline, motion transfer, best frame, files."""

from .pipeline import Animator, Source
from .video import AnimateOptions, animate_video

__all__ = ["Animator", "Source", "AnimateOptions", "animate_video"]
