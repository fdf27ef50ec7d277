"""PyTorch-compatibility helpers shared by the ported transformer networks (not layers).

Ports of PyTorch code start from the same random distribution as the official code so
that training from scratch behaves like it: torch.nn.Conv2d's default kernel init, and
timm's Linear init, and the linearly rising stochastic-depth rates of Swin-style stages.
"""

import keras
import numpy as np

# torch.nn.Conv2d default kernel init: kaiming_uniform(a=sqrt(5)) = U(+-sqrt(1/fan_in)).
TORCH_CONV_INIT = keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform")



def timm_linear_init():
    """timm's `trunc_normal_(std=.02)` for Linear weights (Swin `_init_weights`); a new
    initializer per layer, as each torch module draws its own."""
    return keras.initializers.TruncatedNormal(stddev=0.02)


def stochastic_depth_rates(depths, drop_path_rate):
    """Per-stage lists of DropPath rates rising linearly from 0 to `drop_path_rate`
    (torch.linspace over all blocks, as every Swin-style official model does)."""
    rates = np.linspace(0.0, drop_path_rate, sum(depths)).tolist()
    out, start = [], 0
    for d in depths:
        out.append(rates[start:start + d])
        start += d
    return out
