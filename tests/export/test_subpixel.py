"""The exported generator tail on phases (`export.subpixel`) equals the torch generator within round-off."""

import onnx
import pytest
import torch

from motrans.config import GeneratorConfig
from motrans.export.subpixel import PhaseGenerator, applies, from_phases, to_phases
from motrans.models.generator import Generator
from motrans.models.motion import Flow


def generator(skips: bool, down_blocks: int = 2, seed: int = 0) -> Generator:
    """A small generator with random weights and BatchNorm statistics far from the identity."""
    torch.manual_seed(seed)
    model = Generator(GeneratorConfig(block_expansion=8, max_features=32, num_down_blocks=down_blocks,
                                      num_bottleneck_blocks=1, skips=skips)).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.5)
                module.running_var.uniform_(0.3, 2.0)
                module.weight.normal_(1, 0.3)
                module.bias.normal_(0, 0.3)
    return model


def flow(batch: int, size: tuple[int, int], occlusion: bool, align_corners: bool) -> Flow:
    """A smooth random deformation and occlusion at a quarter of the frame size, as the dense motion gives."""
    h, w = size[0] // 4, size[1] // 4
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    grid = torch.stack([xs, ys], -1).expand(batch, h, w, 2)
    deformation = grid + 0.2 * torch.randn(batch, 1, 1, 2) + 0.05 * torch.randn(batch, h, w, 2)
    occ = torch.rand(batch, 1, h, w) if occlusion else None
    return Flow(deformation, None, None, None, occ, align_corners=align_corners)


@pytest.mark.parametrize("skips,occlusion,align_corners,down_blocks,size", [
    (True, True, False, 2, (64, 64)),
    (True, False, False, 2, (32, 48)),
    (True, True, True, 3, (64, 40)),
    (False, True, False, 2, (48, 32)),
    (False, False, False, 1, (20, 28)),
])
def test_phases_equal_the_generator(skips, occlusion, align_corners, down_blocks, size):
    model = generator(skips, down_blocks)
    assert applies(model, size)
    source = torch.rand(1, 3, *size)
    features = model.encode(source)
    motion = flow(3, size, occlusion, align_corners)
    expand = [f.expand(3, *f.shape[1:]) for f in features]
    with torch.no_grad():
        expected = model(source.expand(3, -1, -1, -1), expand, motion)
        got = PhaseGenerator(model).eval()(source.expand(3, -1, -1, -1), expand, motion)
    assert got.shape == expected.shape
    assert (got - expected).abs().max() <= 1e-5


def test_phases_round_trip():
    x = torch.randn(2, 5, 6, 8)
    phased = to_phases(x)
    assert phased.shape == (2, 20, 3, 4)
    assert torch.equal(phased[:, 5:10], x[:, :, 0::2, 1::2])  # phase 1: even rows, odd columns
    assert torch.equal(from_phases(phased, 5), x)


def test_where_it_does_not_apply():
    from motrans.models.inpainting import InpaintingGenerator

    assert not applies(generator(True, 2), (64, 62))  # 62 does not halve twice
    assert not applies(InpaintingGenerator.__new__(InpaintingGenerator), (64, 64))  # TPSMM's: another network


def test_the_export_runs_on_phases(exports):
    """The renderer exported for a FOMM-family model has the fused convs and never upsamples to full size."""
    for method in ("motrans", "fomm", "mraa"):
        folder, manifest = exports[method]
        graph = onnx.load(str(folder / manifest.graphs["renderer"].file)).graph
        names = [node.name for node in graph.node]
        assert any("/up_phases/" in name for name in names) and any("/final_phases/" in name for name in names)
        assert not any(name.startswith("/generator/up_blocks.1/") for name in names), method
