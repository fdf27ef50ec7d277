"""The network contract of hdrkeras.models: functional model classes whose get_config is
their constructor arguments, all taking one input structure (a dict of named frames)."""

import inspect

import numpy as np
import pytest

from hdrkeras.methods.supervised import build_backbone_inference_model
from hdrkeras.models import ALIGN_INPUTS, FRAME_INPUTS, frame_dict
from hdrkeras.models.ahdrnet import AHDRNet
from hdrkeras.models.esbn import ESBNAlign, ESBNFusion
from hdrkeras.models.fshdr import FSHDR
from hdrkeras.models.hdr_transformer import HDRTransformer
from hdrkeras.models.sctnet import SCTNet

# Tiny, non-default configs: a config that is dropped or renamed shows up.
NETWORKS = [
    (AHDRNet, {"nDenselayer": 2, "nFeat": 8, "growthRate": 4}, FRAME_INPUTS),
    (FSHDR, {"nChannel": 6}, FRAME_INPUTS),
    (HDRTransformer, {"embed_dim": 12, "depths": [1], "num_heads": [2],
                      "padding": "center_chop", "crop_output": False}, FRAME_INPUTS),
    (SCTNet, {"embed_dim": 12, "depths": [1], "num_heads": [2], "channel_num_heads": 2},
     FRAME_INPUTS),
    (ESBNAlign, {"filters": 4, "num_res_blocks": 1, "unit_output": True}, ALIGN_INPUTS),
    (ESBNFusion, {"filters": 4, "growth_rate": 2, "num_dense_layers": 2}, FRAME_INPUTS),
]


@pytest.mark.parametrize("cls, config, inputs", NETWORKS, ids=lambda v: getattr(v, "__name__", ""))
def test_get_config_is_the_constructor_arguments(cls, config, inputs):
    model = cls(name="net", **config)
    got = model.get_config()
    params = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "kwargs")]
    assert set(got) == set(params) | {"name", "trainable"}
    for k, v in config.items():
        assert got[k] == v, k
    again = cls.from_config(got)
    assert again.get_config() == got and again.count_params() == model.count_params()
    # One input structure: a dict of named frames.
    assert isinstance(model.input, dict) and tuple(sorted(model.input)) == tuple(sorted(inputs))


def test_every_backbone_runs_from_a_frame_list_through_frame_dict():
    rng = np.random.default_rng(0)
    ldr = rng.random((1, 3, 16, 16, 3), np.float32)
    t = np.float32([[1, 4, 16]])
    for cls, config, inputs in NETWORKS:
        if inputs != FRAME_INPUTS or cls is ESBNFusion:
            continue
        net = cls(**{k: v for k, v in config.items() if k != "crop_output"})
        out = build_backbone_inference_model(net, "m")({"ldr": ldr, "exposures": t})
        assert np.asarray(out).shape == (1, 16, 16, 3)
    with pytest.raises(ValueError, match="expected 2 frames"):
        frame_dict([1, 2, 3], ALIGN_INPUTS)
