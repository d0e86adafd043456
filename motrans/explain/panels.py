"""The explain figure: rows of titled panels from `explain()`'s arrays, as Figure 3 lays them out for MoTrans.

MoTrans: one row per chosen motion token: the image with the token's keypoint (and its affine as an ellipse), the
motion mask of its part (with the heatmap readout, the map its keypoint is read from), then its attention to the
image tokens in each chosen layer (mean over heads, or one row per head). One softmax runs over all tokens, so the
image part of a row does not sum to 1: it is shown renormalised over the image tokens, and the panel says which
share of the row it is. A last row holds the motion→motion attention of each chosen layer. FOMM and MRAA: per
keypoint (region) its heatmap and mask, the jacobian (covariance) ellipse; TPSMM: per transform its 5 control points
and its warp of a regular grid. Every method ends with a summary row: all keypoints, the background mask, the
occlusion and, when asked, the source, the deformed source and the prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from . import draw

AFFINE_SCALE = 0.12  # the unit circle under a keypoint's affine, drawn at this radius in [-1, 1] units
GAP = 2  # pixels between panels
Row = list  # of (title, (S, S, 3) uint8 panel) pairs, or None for an empty cell


@dataclass(frozen=True)
class Selection:
    """Which panels to draw: the CLI's --tokens, --layers, --heads and --source."""

    tokens: tuple[int, ...] | None = None  # None: all (2K motion tokens for MoTrans, the K parts otherwise)
    layers: tuple[int, ...] | None = None  # 1-based transformer layers; None: all (MoTrans only)
    heads: str = "mean"  # "mean" over heads, or "all": a row per head (MoTrans only)
    source: bool = False  # also the source, the deformed source and the prediction


def figure(arrays: dict[str, np.ndarray], selection: Selection = Selection(), size: int = 160) -> list[Row]:
    """explain()'s arrays -> the rows of the figure, each panel size × size."""
    check(arrays, selection)
    method = str(arrays["method"])
    image = draw.resized(arrays["image"], size)
    if method == "motrans":
        rows = [row for t in tokens(arrays, selection) for row in _token_rows(arrays, image, t, selection)]
        rows.append(_motion_matrices(arrays, selection, size))
    else:
        part_row = _tps_row if method == "tpsmm" else _heatmap_row
        rows = [part_row(arrays, image, k) for k in tokens(arrays, selection)]
    return rows + [_summary_row(arrays, image, selection)]


def parts(arrays: dict[str, np.ndarray]) -> int:
    return len(arrays["masks"]) - 1


def tokens(arrays: dict[str, np.ndarray], selection: Selection) -> tuple[int, ...]:
    count = int(arrays["motion_tokens"]) if "attention" in arrays else parts(arrays)
    return tuple(range(count)) if selection.tokens is None else selection.tokens


def layers(arrays: dict[str, np.ndarray], selection: Selection) -> tuple[int, ...]:
    return tuple(range(1, len(arrays["attention"]) + 1)) if selection.layers is None else selection.layers


def check(arrays: dict[str, np.ndarray], selection: Selection) -> None:
    """Refuses a token, layer or head choice the model does not have, naming what it has."""
    method, count = str(arrays["method"]), len(tokens(arrays, Selection()))
    if "attention" in arrays:
        k = parts(arrays)  # 2K tokens with affines, K without (estimate_jacobian false)
        what = f"{count} motion tokens: 0-{k - 1} keypoints" + (f", {k}-{count - 1} affines" if count > k else "")
    else:
        what = f"{count} {'transforms' if method == 'tpsmm' else 'parts'}: 0-{count - 1}"
    for token in selection.tokens or ():
        if not 0 <= token < count:
            raise InputError(f"--tokens: {token} is out of range (this {method} model has {what})")
    if "attention" not in arrays:
        if selection.layers is not None or selection.heads != "mean":
            raise InputError(f"--layers and --heads apply to MoTrans models only (this is a {method} model)")
        return
    depth = len(arrays["attention"])
    for layer in selection.layers or ():
        if not 1 <= layer <= depth:
            raise InputError(f"--layers: {layer} is out of range (this model has layers 1-{depth})")
    if selection.heads not in ("mean", "all"):
        raise InputError(f"--heads: {selection.heads!r} is neither mean nor all")


def image_attention(arrays: dict[str, np.ndarray], layer: int, token: int,
                    head: int | None) -> tuple[np.ndarray, float]:
    """One motion token's attention to the image tokens in `layer` (1-based), one head or their mean ->
    (renormalised (gh, gw) map summing to 1, the share of the token's whole row that went to image tokens)."""
    weights = arrays["attention"][layer - 1, :, token]  # (heads, L)
    row = weights.mean(axis=0) if head is None else weights[head]
    image_part = row[int(arrays["motion_tokens"]):]
    share = float(image_part.sum())
    return (image_part / share).reshape(tuple(arrays["token_grid"])), share


def _keypoint(arrays, image: np.ndarray, part: int) -> np.ndarray:
    marked = draw.points(image, arrays["kp"][part:part + 1], [part], radius=4)
    if "jacobian" in arrays:
        scale = 1.0 if "covariance" in arrays else AFFINE_SCALE  # MRAA's axes are already the region's std
        marked = draw.ellipse(marked, arrays["kp"][part], arrays["jacobian"][part], part, scale)
    return marked


def _mask(arrays, image: np.ndarray, channel: int) -> np.ndarray:
    return draw.overlay(image // 2, arrays["masks"][channel], alpha=1.0)


def _token_rows(arrays, image: np.ndarray, token: int, selection: Selection) -> list[Row]:
    k = parts(arrays)
    part, kind = token % k, "keypoint" if token < k else "affine"
    lead = [(f"token {token}: {kind} {part}", _keypoint(arrays, image, part)), (f"mask {part}", _mask(arrays, image,
                                                                                                      part + 1))]
    if "readout" in arrays:  # where the keypoint is read: its expectation over this map
        lead.append((f"readout {part} (sqrt)", draw.overlay(image, np.sqrt(arrays["readout"][part]))))
    heads = [None] if selection.heads == "mean" else list(range(arrays["attention"].shape[1]))
    rows = []
    for i, head in enumerate(heads):
        cells = []
        for layer in layers(arrays, selection):
            values, share = image_attention(arrays, layer, token, head)
            name = f"L{layer}" + ("" if head is None else f" h{head + 1}")
            cells.append((f"{name} img {share:.0%}, renorm.", draw.overlay(image, values)))
        rows.append((lead if i == 0 else [None] * len(lead)) + cells)
    return rows


def _motion_matrices(arrays, selection: Selection, size: int) -> Row:
    """Per chosen layer, the (2K, 2K) motion→motion block (queries down, keys across), mean over heads."""
    m = int(arrays["motion_tokens"])
    return [(f"L{layer} motion->motion, q down", draw.heat(arrays["attention"][layer - 1].mean(axis=0)[:m, :m], size,
                                                    smooth=False)) for layer in layers(arrays, selection)]


def _heatmap_row(arrays, image: np.ndarray, part: int) -> Row:
    name = "region" if "covariance" in arrays else "keypoint"
    return [(f"{name} {part}", _keypoint(arrays, image, part)),
            (f"heatmap {part}", draw.overlay(image, arrays["heatmaps"][part])),
            (f"mask {part}", _mask(arrays, image, part + 1))]


def _tps_row(arrays, image: np.ndarray, part: int) -> Row:
    points = slice(5 * part, 5 * part + 5)
    source = draw.resized(arrays["source"], image.shape[0])
    warped = draw.grid_lines(source, arrays["tps_grid"][part], part)
    return [(f"TPS {part}: driving points", draw.points(image, arrays["kp"][points], [part] * 5)),
            (f"TPS {part}: warp in source", draw.points(warped, arrays["source_kp"][points], [part] * 5)),
            (f"mask {part}", _mask(arrays, image, part + 1))]


def _summary_row(arrays, image: np.ndarray, selection: Selection) -> Row:
    kp = arrays["kp"]
    colours = [i // 5 for i in range(len(kp))] if str(arrays["method"]) == "tpsmm" else None
    row = [("all keypoints", draw.points(image, kp, colours)), ("background mask", _mask(arrays, image, 0))]
    levels = sorted((name for name in arrays if name.startswith("occlusion_")), key=lambda n: int(n.split("_")[1]))
    for name in [*levels, "occlusion"] if "occlusion" in arrays else []:
        h, w = arrays[name].shape
        row.append((f"occlusion {h}x{w} (white: seen)", draw.gray(arrays[name], image.shape[0])))
    if selection.source:
        row += [(name, draw.resized(arrays[name], image.shape[0])) for name in ("source", "deformed", "prediction")]
    return row


def compose(rows: list[Row], header: str = "") -> np.ndarray:
    """The rows as one RGB uint8 picture on white: titled panels, GAP apart, under an optional header line."""
    side = next(panel.shape[0] for row in rows for cell in row if cell is not None for panel in [cell[1]])
    cell_h, cell_w = side + draw.TITLE + GAP, side + GAP
    width = max(len(row) for row in rows) * cell_w
    picture = np.full((draw.TITLE + len(rows) * cell_h, width, 3), 255, np.uint8)
    picture[:draw.TITLE] = draw.titled(np.zeros((0, width, 3), np.uint8), header)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell is not None:
                top, left = draw.TITLE + r * cell_h, c * cell_w
                picture[top:top + side + draw.TITLE, left:left + side] = draw.titled(cell[1], cell[0])
    return picture


def numbers(flag: str, text: str | None) -> tuple[int, ...] | None:
    """"0,3,7" -> (0, 3, 7); None or "all" -> None (every one)."""
    if text is None or text.strip() == "all":
        return None
    try:
        numbers = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise InputError(f"{flag}: {text!r} is not a comma-separated list of whole numbers (or all)") from None
    if any(n < 0 for n in numbers):
        raise InputError(f"{flag}: {text!r} has a negative number")
    return numbers
