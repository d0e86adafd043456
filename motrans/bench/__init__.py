"""`motrans bench`: the paper's comparison and ablations on synthetic puppets with known joints (docs/bench.md).

Only the defaults live here, so that the CLI can show them without importing torch.
"""

DEFAULT_STEPS = 400  # ≈ 1 CPU-hour a run on average over the methods suite at 128² (docs/bench.md)
DETECTOR_STEPS = 3000  # the joint detector's: 0.58 px on held-out frames at 128², 11 CPU-minutes
