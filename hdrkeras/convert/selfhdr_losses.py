"""Parity of hdrkeras.losses' SelfHDR stage losses with SelfHDR{1,2}Model.backward.

The fixture (`selfhdr_losses`) has no weights; its config names the thresholds as
strings like "5/255" and omits the VGG term of stage 2.
"""

from fractions import Fraction

import numpy as np

from hdrkeras.errors import ConfigError, DataError


def _number(value, key):
    try:
        return float(Fraction(str(value)))
    except (ValueError, ZeroDivisionError):
        raise ConfigError(f"selfhdr_losses config: {key}={value!r} is not a number") from None


def load_reference(name, state_dict, config=None, *, rgb=False):
    """Returns {"stage1": SelfHDRStage1Loss, "stage2": SelfHDRStage2Loss} for `config`
    (`rgb` is accepted for the converters' common signature; losses have no channels order).

    Config keys (fixture names): mu, stage1_mask_threshold, stage2_mask_threshold,
    stru_prese_weight, vgg_term ("omitted" -> no VGG term; otherwise vgg_weight 1 and the
    VGG19 weights must be available locally), optional vgg_weights_path.
    """
    from hdrkeras.losses import SelfHDRStage1Loss, SelfHDRStage2Loss

    if state_dict:
        raise DataError(f"{name}: the losses have no parameters, got keys {sorted(state_dict)}")
    config = dict(config or {})
    mu = _number(config.get("mu", 5000), "mu")
    vgg_term = str(config.get("vgg_term", "omitted"))
    return {
        "stage1": SelfHDRStage1Loss(
            mu=mu,
            mask_threshold=_number(config.get("stage1_mask_threshold", "5/255"),
                                   "stage1_mask_threshold"),
            stru_prese_weight=_number(config.get("stru_prese_weight", 4), "stru_prese_weight")),
        "stage2": SelfHDRStage2Loss(
            mu=mu,
            mask_threshold=_number(config.get("stage2_mask_threshold", "10/255"),
                                   "stage2_mask_threshold"),
            vgg_weight=0.0 if vgg_term == "omitted" else 1.0,
            vgg_weights_path=config.get("vgg_weights_path")),
    }


def _nhwc(x):
    return np.transpose(np.asarray(x, np.float32), (0, 2, 3, 1))


def _nchw(x):
    return np.transpose(np.asarray(x), (0, 3, 1, 2))


def parity_forward(name, state_dict, config, inputs):
    """Official-layout (NCHW) fixture inputs -> the fixture's out_* masks and scalars."""
    losses = load_reference(name, state_dict, config)
    reference = np.concatenate([_nhwc(inputs["s1_h_ref"]), _nhwc(inputs["s1_ldr_ref"])], -1)
    t1 = losses["stage1"].terms(_nhwc(inputs["s1_pred"]), _nhwc(inputs["s1_y_color"]), reference)
    t2 = losses["stage2"].terms(_nhwc(inputs["s2_pred"]), _nhwc(inputs["s2_y_color"]),
                                _nhwc(inputs["s2_y_stru"]))
    scalar = lambda t: np.asarray(t, np.float32).reshape(())  # noqa: E731
    return {
        "out_s1_in_mask": _nchw(t1["in_mask"]),
        "out_s1_label_mask": _nchw(t1["label_mask"]),
        "out_s1_loss_stru_expan": scalar(t1["stru_expan"]),
        "out_s1_loss_stru_prese": scalar(t1["stru_prese"]),
        "out_s1_loss_total": scalar(t1["total"]),
        "out_s2_label_mask": _nchw(t2["label_mask"]),
        "out_s2_loss_color": scalar(t2["color"]),
    }
