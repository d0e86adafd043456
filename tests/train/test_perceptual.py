import torch

from motrans.losses.perceptual import MobileNetV2Features


def _with_random_statistics(network: MobileNetV2Features) -> MobileNetV2Features:
    generator = torch.Generator().manual_seed(0)
    for module in network.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            size = module.num_features
            module.running_mean.copy_(torch.randn(size, generator=generator) * 0.5)
            module.running_var.copy_(torch.rand(size, generator=generator) * 2 + 0.1)
            module.weight.data.copy_(torch.randn(size, generator=generator))
            module.bias.data.copy_(torch.randn(size, generator=generator))
    return network


def test_folded_batch_norm_gives_the_same_features_and_gradients():
    torch.manual_seed(0)
    plain = _with_random_statistics(MobileNetV2Features())
    folded = MobileNetV2Features()
    folded.load_state_dict(plain.state_dict())
    folded.folded()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert not any(p.requires_grad for p in folded.parameters())
    image = torch.rand(2, 3, 64, 64)
    grads = []
    for network in (plain, folded):
        x = image.clone().requires_grad_(True)
        outs = network(x)
        sum(o.square().mean() for o in outs).backward()
        grads.append((outs, x.grad))
    for a, b in zip(grads[0][0], grads[1][0]):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-4 * a.abs().max().item())
    assert torch.allclose(grads[0][1], grads[1][1], rtol=1e-3, atol=1e-3 * grads[0][1].abs().max().item())
    folded.train()
    assert torch.allclose(folded(image)[-1], grads[1][0][-1])  # frozen: train() changes nothing
