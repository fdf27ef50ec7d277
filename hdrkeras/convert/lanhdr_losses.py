"""Parity of hdrkeras.losses' LAN-HDR objective with utils/loss.py + trainer.py.

The fixture (`lanhdr_losses`) has no weights; its config names the official loss
classes and weights and leaves the VGG19 term out ("vgg_excluded").
"""

import numpy as np

from hdrkeras.errors import ConfigError, DataError


def load_reference(name, state_dict, config=None):
    """Returns the `LanHdrLoss` described by the fixture config.

    Config keys: ReconstructionLoss {"type": "l1"}, CharbonnierLoss {"eps"}, tonemap_mu,
    loss_weights {"l1": 1, "frequency", "temporal", and "vgg" or "vgg_excluded"}; an
    included "vgg" weight needs the VGG19 weights locally (optional vgg_weights_path).
    """
    from hdrkeras.losses import LanHdrLoss

    if state_dict:
        raise DataError(f"{name}: the losses have no parameters, got keys {sorted(state_dict)}")
    config = dict(config or {})
    recon = config.get("ReconstructionLoss", {}).get("type", "l1")
    if recon != "l1":
        raise ConfigError(f"{name}: ReconstructionLoss type must be 'l1', got {recon!r}")
    weights = dict(config.get("loss_weights", {}))
    if float(weights.get("l1", 1.0)) != 1.0:
        raise ConfigError(f"{name}: loss_weights.l1 must be 1, got {weights['l1']!r}")
    return LanHdrLoss(
        vgg_weight=float(weights.get("vgg", 0.0)),
        frequency_weight=float(weights.get("frequency", 0.1)),
        temporal_weight=float(weights.get("temporal", 0.1)),
        mu=float(config.get("tonemap_mu", 5000.0)),
        eps=float(config.get("CharbonnierLoss", {}).get("eps", 1e-6)),
        vgg_weights_path=config.get("vgg_weights_path"))


def parity_forward(name, state_dict, config, inputs):
    """NCHW fixture inputs (pred_t, gt_t, pred_t1, gt_t1) -> the tonemapped images and
    the scalar terms under the fixture's out_* names."""
    from hdrkeras.ops.tonemap import mu_law

    loss = load_reference(name, state_dict, config)
    keys = ("pred_t", "gt_t", "pred_t1", "gt_t1")
    x = {k: np.transpose(np.asarray(inputs[k], np.float32), (0, 2, 3, 1)) for k in keys}
    terms = loss.terms(*(x[k] for k in keys))
    scalar = lambda t: np.asarray(t, np.float32).reshape(())  # noqa: E731
    out = {f"out_{k}_tm": np.transpose(mu_law(x[k], loss.mu), (0, 3, 1, 2)) for k in keys}
    out.update({"out_l1": scalar(terms["l1"]), "out_frequency": scalar(terms["frequency"]),
                "out_temporal": scalar(terms["temporal"])})
    out["out_total_wo_vgg" if loss.vgg_weight == 0 else "out_total"] = scalar(terms["total"])
    return out
