"""Official FSHDR checkpoints (SelfHDR's `models/fshdr.py:FSHDR`) -> hdrkeras FSHDR."""

from hdrkeras.convert.ahdrnet import assign_convs, numpy_state, split_rgb
from hdrkeras.convert.torch_checkpoint import nchw_to_nhwc, nhwc_to_nchw
from hdrkeras.errors import ConfigError


def _pairs(model):
    pairs = [(f"conv{i}", model.get_layer(f"conv{i}")) for i in range(1, 17)]
    for k in (1, 2):
        sdc = model.get_layer(f"sdc{k}")
        pairs += [(f"sdc{k}.conv{j}", conv) for j, conv in enumerate(sdc.convs, start=1)]
    return pairs


def load_reference(name, state_dict, config=None, *, rgb=False):
    """Builds FSHDR(**config) carrying the official weights.

    Args:
      name: str. fixture/architecture name ("fshdr"), for messages.
      state_dict: mapping of official keys (e.g. "sdc1.conv2.weight") to torch arrays.
      config: dict of FSHDR constructor args ({"nChannel": 6}); may hold "rgb".
      rgb: bool. permute the three per-frame first convs' input channels and conv16's
        output channels so the model works in RGB on a BGR-trained checkpoint.
    """
    from hdrkeras.models.fshdr import FSHDR

    config, rgb_cfg = split_rgb(config)
    rgb = rgb or rgb_cfg
    try:
        model = FSHDR(**config)
    except TypeError as e:
        raise ConfigError(f"{name}: bad FSHDR config {config}: {e}") from None
    assign_convs(name, numpy_state(state_dict), _pairs(model),
                 rgb_in=("conv1", "conv2", "conv3") if rgb else (),
                 rgb_out=("conv16",) if rgb else ())
    return model


def parity_forward(name, state_dict, config, inputs):
    """NCHW BGR x1, x2, x3 -> {"out_hdr": NCHW} exactly as the official forward."""
    model = load_reference(name, state_dict, config)
    xs = {k: nchw_to_nhwc(inputs[k]) for k in ("x1", "x2", "x3")}
    return {"out_hdr": nhwc_to_nchw(model(xs, training=False))}
