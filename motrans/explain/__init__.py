"""What a motion estimator sees (the paper's Fig. 3 and the baselines' views): `explain(model, image)` gives the
arrays, `figure`/`compose` draw them, `explain_files` is `motrans explain`."""

from .panels import Selection, compose, figure
from .probe import explain
from .run import ExplainOptions, explain_files

__all__ = ["explain", "figure", "compose", "Selection", "ExplainOptions", "explain_files"]
