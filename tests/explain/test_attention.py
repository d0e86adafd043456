"""The attention recorder (motrans/explain/attention.py): the weights are the model's, distributions, and looking
at them changes nothing the animate path computes."""

import numpy as np
import torch

from motrans.animate import Animator
from motrans.explain import explain
from motrans.explain.attention import attention_weights, recording_attention
from motrans.explain.panels import image_attention
from motrans.models import build_estimator, build_model
from motrans.models.estimators.motrans import Attention


def _perturbed_model(config):
    return _perturbed(build_model(config.model))


def _perturbed(model):
    with torch.no_grad():  # trunc-normal(0.02) weights give every token nearly uniform attention
        for param in model.parameters():
            param.add_(0.05 * torch.randn_like(param))
    return model.eval()


def test_full_attention_rows_are_distributions(tiny_config):
    model = _perturbed_model(tiny_config)
    arrays = explain(model, np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    config = tiny_config.model.estimator
    tokens = 2 * tiny_config.model.num_kp + 16  # 64² frames: a 1/4 map of 16², 4×4 patches, so 4×4 image tokens
    assert arrays["attention"].shape == (config.depth, config.heads, tokens, tokens)
    assert tuple(arrays["token_grid"]) == (4, 4) and int(arrays["motion_tokens"]) == 2 * tiny_config.model.num_kp
    assert (arrays["attention"] >= 0).all()
    np.testing.assert_allclose(arrays["attention"].sum(axis=-1), 1.0, atol=1e-5)
    # and not uniform: the perturbed tokens prefer some keys, so the test above is not met by a constant
    assert arrays["attention"].std(axis=-1).max() > 1e-3


def test_recorded_weights_are_the_ones_the_layer_used(tiny_config):
    """Each layer's output is rebuilt bit for bit from the recorded weights and the layer's own values."""
    estimator = _perturbed(build_estimator(tiny_config.model))
    seen = []
    hooks = [m.register_forward_hook(lambda m, args, out: seen.append((m, args, out)))
             for m in estimator.modules() if isinstance(m, Attention)]
    with torch.no_grad(), recording_attention(estimator) as recorded:
        estimator(torch.rand(2, 3, 64, 64))
    for hook in hooks:
        hook.remove()
    assert len(recorded) == len(seen) == tiny_config.model.estimator.depth
    for weights, (module, args, out) in zip(recorded, seen):
        x = args[0]
        b, length, dim = x.shape
        v = module.qkv(x).view(b, length, 3, module.heads, dim // module.heads).permute(2, 0, 3, 1, 4)[2]
        rebuilt = module.out(torch.matmul(weights, v).transpose(1, 2).reshape(b, length, dim))
        assert torch.equal(rebuilt, out)


def test_a_query_matching_one_key_attends_to_that_patch():
    """Hand-built: q = k = the token itself; motion token 0 and image patch (1, 2) of a 3×4 grid share a direction
    that no other token has, so token 0's attention goes there."""
    dim, motion = 8, 2
    attention = Attention(dim, heads=1, scale_with_head=True)
    with torch.no_grad():
        attention.qkv.weight.copy_(torch.cat([torch.eye(dim), torch.eye(dim), torch.eye(dim)]))
    tokens = torch.zeros(1, motion + 12, dim)
    tokens[0, :, 0] = 1.0  # a shared component: every key scores the same on it
    tokens[0, 0, 5] = tokens[0, motion + 1 * 4 + 2, 5] = 6.0
    weights = attention_weights(attention, tokens)
    arrays = {"attention": weights.detach().numpy(),  # (B = 1, heads, L, L) as (layers, heads, L, L)
              "motion_tokens": np.array(motion), "token_grid": np.array([3, 4])}
    values, share = image_attention(arrays, 1, token=0, head=None)
    assert values.shape == (3, 4) and np.unravel_index(values.argmax(), values.shape) == (1, 2)
    assert values[1, 2] > 0.9 and abs(values.sum() - 1) < 1e-5 and 0 < share < 1
    other, _ = image_attention(arrays, 1, token=1, head=None)
    assert other.max() < 0.2  # token 1 matches no patch: spread evenly


def test_animate_is_unchanged_with_the_hooks_installed(tiny_checkpoint):
    animator = Animator.from_checkpoint(tiny_checkpoint, device="cpu")
    rng = np.random.default_rng(1)
    source = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    driving = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(3)]
    plain = list(animator.animate(source, driving))
    with recording_attention(animator.model.estimator) as recorded:
        hooked = list(animator.animate(source, driving))
    assert len(recorded) > 0  # the hooks did run, on every estimator pass
    assert all(np.array_equal(a, b) for a, b in zip(plain, hooked))
    assert not any(m._forward_pre_hooks for m in animator.model.modules())  # and are gone afterwards
