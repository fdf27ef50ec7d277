"""Architectures: one module per network, each a Keras functional model class.

The network contract (every architecture, ESBN's two nets included):

- A `keras.Model` subclass built functionally in `__init__` (see fshdr.py), registered
  with `@keras.saving.register_keras_serializable(package="hdrkeras")`, whose
  `get_config()` returns exactly its constructor arguments (plus Keras' `name` and
  `trainable`), so `from_config(config) == cls(**config)` and `.keras` files load. The
  `NetworkConfig` mixin does that once for all: `__init__` ends with
  `self.set_config(arg=value, ...)` (the normalised constructor arguments).
- One input structure: a dict of named NHWC frames. Every three-frame merging network
  (AHDRNet, FSHDR, HDR-Transformer, SCTNet, ESBN's fusion net) takes FRAME_INPUTS =
  {"x1", "x2", "x3"}: the frames in increasing exposure, "x2" the reference, each
  [B, H, W, C] in the channel layout its module documents (e.g. [H_i, L_i] with
  H_i = L_i**2.2 / t_i linear and L_i gamma LDR in [0,1]). ESBN's alignment nets take
  ALIGN_INPUTS = {"nonref", "ref"}. `frame_dict(frames)` builds the dict from a list, so
  a caller never asks which structure a network takes.
- Argument names: the official constructor's names for official hyperparameters (the
  keys of the parity fixtures' meta.json "config", e.g. AHDRNet's nChannel, nDenselayer,
  nFeat, growthRate; SCTNet's embed_dim, depths, num_heads, window_size), snake_case for
  what is ours (padding, crop_output, unit_output, filters, num_res_blocks, ...).
- PyTorch-compatibility helpers shared by several ports (torch's conv init, drop-path
  rates) live in hdrkeras.layers.torch_compat, never in one model file imported by another.

The helpers of the contract (FRAME_INPUTS, ALIGN_INPUTS, frame_dict, NetworkConfig) live in
hdrkeras.models.contract. Every model module is imported here (explicitly) so that importing
the package registers them all: hdrkeras.saving relies on it to load any hdrkeras `.keras`
file. A new architecture is one more name below.
"""

from hdrkeras.models.contract import (ALIGN_INPUTS, FRAME_INPUTS, NetworkConfig,  # noqa: F401
                                      frame_dict)
from hdrkeras.models import (ahdrnet, dealthdr, esbn, fshdr, hdr_transformer,  # noqa: F401,E402
                             lanhdr, sctnet)
