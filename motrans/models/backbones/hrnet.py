"""HRNet stages 1-3 (Sun et al. 2019), the CNN before the Motion Transformer's tokens, and its conv "Stem".

`Stem` is conv3×3/2 → conv3×3/2 → 4 Bottlenecks: (B, 3, H, W) -> (B, 256, H/4, W/4), the Stem row of Table 5.
`HRNet` continues with transition1, stage 2 (2 branches), transition2 and stage 3 (3 branches, fused into the
highest resolution): (B, 3, H, W) -> (B, w, H/4, W/4). Parameter names follow the ImageNet HRNet files
(`hrnet_w32-36af842e.pth`), so those load by name.
"""

from __future__ import annotations

from torch import Tensor, nn

BN_MOMENTUM = 0.1


def conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, relu: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout, momentum=BN_MOMENTUM)]
    return nn.Sequential(*layers, nn.ReLU(inplace=True)) if relu else nn.Sequential(*layers)


class BasicBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels, momentum=BN_MOMENTUM)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + x)


class Bottleneck(nn.Module):
    def __init__(self, inplanes: int, planes: int):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = conv_bn(inplanes, planes * 4, 1, relu=False) if inplanes != planes * 4 else None

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


class Stem(nn.Module):
    """(B, 3, H, W) -> (B, 4·s, H/4, W/4); s = 64 in HRNet and the paper's Stem (256 channels out)."""

    def __init__(self, width: int = 64):
        super().__init__()
        self.out_channels = 4 * width
        self.conv1 = nn.Conv2d(3, width, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width, momentum=BN_MOMENTUM)
        self.conv2 = nn.Conv2d(width, width, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(Bottleneck(width, width), *(Bottleneck(4 * width, width) for _ in range(3)))

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        return self.layer1(x)


class HighResolutionModule(nn.Module):
    """Parallel BasicBlock branches, then a summing fusion; `outputs` = how many branches it returns."""

    def __init__(self, widths: list[int], blocks: int, outputs: int):
        super().__init__()
        self.branches = nn.ModuleList(nn.Sequential(*(BasicBlock(w) for _ in range(blocks))) for w in widths)
        self.fuse_layers = nn.ModuleList(
            nn.ModuleList(nn.Identity() if i == j else fuse(widths, i, j) for j in range(len(widths)))
            for i in range(outputs))
        self.relu = nn.ReLU(True)

    def forward(self, xs: list[Tensor]) -> list[Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        fused = []
        for fuse in self.fuse_layers:
            y = fuse[0](xs[0])
            for j in range(1, len(xs)):
                y = y + fuse[j](xs[j])  # summed in branch order, as in HRNet
            fused.append(self.relu(y))
        return fused


def fuse(widths: list[int], i: int, j: int) -> nn.Sequential:
    """Brings branch j to branch i's resolution and width: 1×1 conv + nearest upsampling, or strided 3×3s."""
    if j > i:
        return nn.Sequential(nn.Conv2d(widths[j], widths[i], 1, bias=False), nn.BatchNorm2d(widths[i]),
                             nn.Upsample(scale_factor=2 ** (j - i), mode="nearest"))
    steps = [conv_bn(widths[j], widths[j], 3, 2) for _ in range(i - j - 1)]
    return nn.Sequential(*steps, conv_bn(widths[j], widths[i], 3, 2, relu=False))


class HRNet(Stem):
    """HRNet-W`width` stages 1-3: (B, 3, H, W) -> (B, width, H/4, W/4). H, W divisible by 16."""

    def __init__(self, width: int = 32, stem_width: int = 64):
        super().__init__(stem_width)
        w2, w3, stem = [width, 2 * width], [width, 2 * width, 4 * width], self.out_channels
        self.out_channels = width
        self.transition1 = nn.ModuleList([conv_bn(stem, width, 3), nn.Sequential(conv_bn(stem, 2 * width, 3, 2))])
        self.stage2 = nn.Sequential(HighResolutionModule(w2, 4, outputs=2))
        self.transition2 = nn.ModuleList([nn.Identity(), nn.Identity(),
                                          nn.Sequential(conv_bn(2 * width, 4 * width, 3, 2))])
        self.stage3 = nn.Sequential(*(HighResolutionModule(w3, 4, outputs=3 if m < 3 else 1) for m in range(4)))

    def forward(self, x: Tensor) -> Tensor:
        x = super().forward(x)
        xs = self.stage2([t(x) for t in self.transition1])
        xs = [self.transition2[0](xs[0]), self.transition2[1](xs[1]), self.transition2[2](xs[-1])]
        return self.stage3(xs)[0]
