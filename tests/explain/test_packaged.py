"""Fig. 3 on the packaged puppet model: the motion token of a stretched-out hand looks at the arm.

Unseen puppet (the demo's held-out seed 4), frame 40: the left arm is straight (root-to-hand 0.999 of its length)
and points away from the body. The keypoint token whose keypoint lies nearest the ground-truth hand is taken; its
attention to the image tokens (8×8 cells of 16² pixels at 128²), renormalised over them and averaged over heads and
the 4 layers, is compared per cell between the cells the arm covers (≥ 10 % of their pixels, the arm rendered
alone) and the cells of pure background (no puppet pixel). Measured: token 3, 1.2 px from the hand; 2.74× more
attention per arm cell than per background cell (layers 1-4: 2.76, 3.53, 2.88, 1.98). Uniform attention gives 1.
"""

import numpy as np
import pytest

from motrans.animate import Animator
from motrans.data import synth
from motrans.demo import HELD_OUT
from motrans.explain import explain
from motrans.packaged import packaged_model_path

VIDEO, FRAME, ARM = 4, 40, 0  # arm 0 is LIMBS[0], "arm_left"
SIZE, CELLS = 128, 8


def _render(puppet, background, t, skip=()) -> np.ndarray:
    """render_frame without the parts in `skip`."""
    canvas = background.copy()
    for part, origin, matrix, shade in puppet.pose(t)[1]:
        if not any(part is other for other in skip):
            synth._draw(canvas, part, origin, matrix, shade)
    n = synth.SUPERSAMPLE
    small = sum(canvas[i::n, j::n] for i in range(n) for j in range(n)) / n**2
    return np.clip(small * 255 + 0.5, 0, 255).astype(np.uint8)


def _cell_share(pixels: np.ndarray) -> np.ndarray:
    """(S, S) bool -> (8, 8) fraction of each token cell."""
    side = SIZE // CELLS
    return pixels.reshape(CELLS, side, CELLS, side).mean(axis=(1, 3))


@pytest.fixture(scope="module")
def scene():
    rng = np.random.default_rng(synth.video_seed(HELD_OUT, VIDEO))
    puppet = synth.make_puppet(rng, SIZE)
    background = synth._background(rng, SIZE * synth.SUPERSAMPLE)
    return puppet, background


def test_the_arm_is_stretched_out(scene):
    puppet, _ = scene
    root, mid, hand = puppet.joints(FRAME)[synth.JOINT_NAMES.index("arm_left_root"):][:3]
    reach = np.linalg.norm(hand - root) / (np.linalg.norm(mid - root) + np.linalg.norm(hand - mid))
    assert reach > 0.99 and hand[0] < root[0] - 20  # straight, and out to the left of the shoulder


def test_the_hand_token_attends_more_to_the_arm_than_to_the_background(scene):
    puppet, background = scene
    frame = synth.render_frame(puppet, background, FRAME)
    arm = _cell_share(np.any(frame != _render(puppet, background, FRAME, puppet.limbs[ARM]), axis=-1)) >= 0.1
    empty = _render(puppet, background, FRAME, [part for part, *_ in puppet.pose(FRAME)[1]])
    plain = _cell_share(np.all(frame == empty, axis=-1)) == 1
    assert arm.sum() >= 3 and plain.sum() >= 30

    arrays = explain(Animator.from_checkpoint(packaged_model_path(), device="cpu").model, frame)
    hand = 2 * puppet.joints(FRAME)[synth.JOINT_NAMES.index("arm_left_end")] / (SIZE - 1) - 1
    token = int(np.linalg.norm(arrays["kp"] - hand, axis=1).argmin())
    assert np.linalg.norm(arrays["kp"][token] - hand) * (SIZE - 1) / 2 < 4  # a keypoint really is on the hand

    motion = int(arrays["motion_tokens"])
    weights = arrays["attention"][:, :, token, motion:].mean(axis=1)  # (layers, N), mean over heads
    weights = weights / weights.sum(axis=1, keepdims=True)  # renormalised over the image tokens
    per_layer = [w.reshape(CELLS, CELLS)[arm].mean() / w.reshape(CELLS, CELLS)[plain].mean() for w in weights]
    overall = np.mean(weights, axis=0).reshape(CELLS, CELLS)
    ratio = overall[arm].mean() / overall[plain].mean()
    print(f"hand token {token}, {arm.sum()} arm and {plain.sum()} background cells: {ratio:.2f}x per arm cell vs "
          "background cell; per layer " + ", ".join(f"{r:.2f}" for r in per_layer))
    assert ratio > 1.5 and min(per_layer) > 1
