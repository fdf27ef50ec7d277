"""Official AHDRNet checkpoints (SelfHDR's `models/ahdrnet.py:AHDR`) -> hdrkeras AHDRNet.

Also holds the small torch-conv helpers shared with `hdrkeras.convert.fshdr` (both
backbones are plain Conv2d stacks).
"""

import numpy as np

from hdrkeras.convert.torch_checkpoint import nchw_to_nhwc, nhwc_to_nchw, strip_module_prefix
from hdrkeras.errors import ConfigError, DataError


def numpy_state(state_dict):
    """Official keys without DataParallel's `module.` prefix -> numpy arrays."""
    return {k: np.asarray(v) for k, v in strip_module_prefix(dict(state_dict)).items()}


def bgr_permutation(channels, where):
    """Index map reversing the colour order inside each 3-channel group.

    Official inputs/outputs are BGR per 3-channel group (cv2 loaders); ours are RGB.
    """
    if channels % 3:
        raise ConfigError(f"rgb=True needs the {where} channel count to be a multiple of 3, "
                          f"got {channels}")
    return np.array([3 * (c // 3) + 2 - c % 3 for c in range(channels)])


def assign_convs(model_name, state_dict, pairs, rgb_in=(), rgb_out=()):
    """Copies torch Conv2d weights (OIHW + bias) into Keras Conv2D layers (HWIO + bias).

    Args:
      model_name: str. used in error messages.
      state_dict: dict torch key -> numpy array (already prefix-stripped).
      pairs: list of (torch module prefix, keras.layers.Conv2D).
      rgb_in: torch prefixes whose input channels are permuted BGR -> RGB.
      rgb_out: torch prefixes whose output channels are permuted BGR -> RGB.

    Raises DataError naming every missing/unexpected key, or the first shape mismatch.
    """
    expected = {f"{p}.{s}" for p, _ in pairs for s in ("weight", "bias")}
    # Buffers such as BatchNorm's num_batches_tracked do not exist in these nets.
    missing = sorted(expected - set(state_dict))
    unexpected = sorted(set(state_dict) - expected)
    if missing or unexpected:
        raise DataError(
            f"{model_name} checkpoint does not match the architecture: "
            f"missing keys {missing or 'none'}; unexpected keys {unexpected or 'none'} "
            "(wrong config or wrong network?)")
    for prefix, layer in pairs:
        w = state_dict[f"{prefix}.weight"]
        b = state_dict[f"{prefix}.bias"]
        kernel = np.transpose(w, (2, 3, 1, 0)).astype(np.float32)  # OIHW -> HWIO
        bias = b.astype(np.float32)
        if prefix in rgb_in:
            kernel = kernel[:, :, bgr_permutation(kernel.shape[2], f"{prefix} input"), :]
        if prefix in rgb_out:
            perm = bgr_permutation(kernel.shape[3], f"{prefix} output")
            kernel, bias = kernel[..., perm], bias[perm]
        want = [tuple(v.shape) for v in layer.weights]
        if want != [kernel.shape, bias.shape]:
            raise DataError(
                f"{model_name} checkpoint: {prefix} has weight {tuple(w.shape)} (torch OIHW) "
                f"and bias {tuple(b.shape)}, but the model expects {want} (HWIO); "
                "wrong config?")
        layer.set_weights([kernel, bias])


def split_rgb(config):
    """Returns (architecture config, rgb flag): `rgb` may be given inside `config`."""
    config = dict(config or {})
    rgb = bool(config.pop("rgb", False))
    return config, rgb


def _pairs(model):
    """(official module prefix, Keras Conv2D) for every conv of AHDRNet."""
    pairs = [("conv1", model.get_layer("conv1")), ("conv2", model.get_layer("conv2"))]
    for att, idx in (("att1", "1"), ("att3", "3")):
        layer = model.get_layer(att)
        pairs += [(f"att{idx}1", layer.conv1), (f"att{idx}2", layer.conv2)]
    for k in (1, 2, 3):
        rdb = model.get_layer(f"RDB{k}")
        pairs += [(f"RDB{k}.dense_layers.{i}.conv", conv) for i, conv in enumerate(rdb.dense_layers)]
        pairs.append((f"RDB{k}.conv_1x1", rdb.conv_1x1))
    for n in ("GFF_1x1", "GFF_3x3", "conv_up", "conv3"):
        pairs.append((n, model.get_layer(n)))
    return pairs


def load_reference(name, state_dict, config=None, *, rgb=False):
    """Builds AHDRNet(**config) carrying the official weights.

    Args:
      name: str. fixture/architecture name ("ahdrnet"), for messages.
      state_dict: mapping of official keys (e.g. "RDB1.dense_layers.0.conv.weight") to
        arrays in torch layout.
      config: dict of AHDRNet constructor args (official names); may hold "rgb".
      rgb: bool. permute conv1's input and conv3's output channels so the model takes and
        returns RGB although the checkpoint was trained on BGR (cv2) data.
    """
    from hdrkeras.models.ahdrnet import AHDRNet

    config, rgb_cfg = split_rgb(config)
    rgb = rgb or rgb_cfg
    try:
        model = AHDRNet(**config)
    except TypeError as e:
        raise ConfigError(f"{name}: bad AHDRNet config {config}: {e}") from None
    assign_convs(name, numpy_state(state_dict), _pairs(model),
                 rgb_in=("conv1",) if rgb else (), rgb_out=("conv3",) if rgb else ())
    return model


def parity_forward(name, state_dict, config, inputs):
    """NCHW BGR x1, x2, x3 -> {"out_hdr": NCHW} exactly as the official forward."""
    model = load_reference(name, state_dict, config)
    xs = {k: nchw_to_nhwc(inputs[k]) for k in ("x1", "x2", "x3")}
    return {"out_hdr": nhwc_to_nchw(model(xs, training=False))}
