"""SpyNet optical flow (Ranjan & Black, CVPR 2017) as DeAltHDR builds it."""

import keras
import tensorflow as tf

from hdrkeras.layers.channel_attention import TORCH_CONV_INIT
from hdrkeras.ops.warp import backward_warp

LEVELS = 6
_WIDTHS = (32, 64, 32, 16, 2)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def dealthdr_warp(x, flow, row_offset=0, source_row0=0, height=None):
    """DeAltHDR's `warp`: bilinear, border padding, grid normalised with W - 1 but sampled
    with grid_sample's align_corners=False (see `backward_warp` sampling). A flow of fewer
    rows than x is a band starting at `row_offset`; x may hold only the rows from
    `source_row0` on of a `height`-row map (see `backward_warp`)."""
    return backward_warp(x, flow, border="edge", sampling="align_corners_false",
                         row_offset=row_offset, source_row0=source_row0, height=height)


@keras.saving.register_keras_serializable(package="hdrkeras")
class SpyNet(keras.layers.Layer):
    """Coarse-to-fine flow from `ref` to `supp`: warp(supp, flow) aligns supp to ref.

    Six pyramid levels (2x2 average pooling); at each level, coarse to fine, the flow is
    upsampled (bilinear, half-pixel centres) and doubled, supp is warped by it and a
    basic module (five 7x7 convs 8-32-64-32-16-2, ReLU between) adds a residual. Trained
    end to end with the HDR network; no pretrained weights. Inputs are clamped to [0, 1]
    and normalised with per-channel `mean` / `std`.

    Call args:
      inputs: [ref, supp], float32 [B, H, W, 3] NHWC linear RGB (H, W multiples of 32).

    Returns float32 [B, H, W, 2] flow in pixels on ref's grid: [..., 0] = dx (along W),
    [..., 1] = dy (along H).

    Args:
      mean: 3 floats. Per-channel normalisation mean. Defaults to ImageNet RGB.
      std: 3 floats. Per-channel normalisation std. Defaults to ImageNet RGB.
    """

    def __init__(self, mean=IMAGENET_MEAN, std=IMAGENET_STD, **kwargs):
        super().__init__(**kwargs)
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)

    def build(self, input_shape):
        self.basic_module = []
        for level in range(LEVELS):
            convs, channels = [], 8
            for k, width in enumerate(_WIDTHS):
                conv = keras.layers.Conv2D(width, 7, padding="same",
                                           kernel_initializer=TORCH_CONV_INIT,
                                           name=f"basic_module_{level}_conv{k}",
                                           dtype=self.dtype_policy)
                conv.build((None, None, None, channels))
                convs.append(conv)
                channels = width
            self.basic_module.append(convs)
        self.built = True

    def _refine(self, level, x):
        convs = self.basic_module[level]
        for conv in convs[:-1]:
            x = tf.nn.relu(conv(x))
        return convs[-1](x)

    # The pieces of `call`, also run by row bands (hdrkeras.models.dealthdr_banded).
    def pyramids(self, ref, supp):
        """Normalised ref and supp at the LEVELS resolutions, finest first."""
        mean = tf.constant(self.mean, tf.float32)
        std = tf.constant(self.std, tf.float32)
        ref = (tf.clip_by_value(ref, 0.0, 1.0) - mean) / std
        supp = (tf.clip_by_value(supp, 0.0, 1.0) - mean) / std
        refs, supps = [ref], [supp]
        for _ in range(LEVELS - 1):
            refs.append(tf.nn.avg_pool2d(refs[-1], 2, 2, "VALID"))
            supps.append(tf.nn.avg_pool2d(supps[-1], 2, 2, "VALID"))
        return refs, supps

    @staticmethod
    def coarsest_flow(refs):
        coarse = tf.shape(refs[-1])
        return tf.zeros(tf.stack([coarse[0], coarse[1], coarse[2], 2]), refs[-1].dtype)

    @staticmethod
    def upsample(flow, size):
        """The coarser level's flow on the next level's grid (size [2]), doubled."""
        return tf.image.resize(flow, size, method="bilinear", antialias=False) * 2.0

    def residual(self, level, ref, warped, flow):
        """The basic module's flow update at `level` (five 7x7 convs: 15 rows of reach)."""
        return self._refine(level, tf.concat([ref, warped, flow], axis=-1))

    def call(self, inputs):
        refs, supps = self.pyramids(*inputs)
        flow = self.coarsest_flow(refs)
        for level in range(LEVELS - 1, -1, -1):
            flow = self.upsample(flow, tf.shape(refs[level])[1:3])
            flow = flow + self.residual(level, refs[level], dealthdr_warp(supps[level], flow),
                                        flow)
        # The official final resize to the input size is the identity (same size).
        return flow

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (2,)

    def get_config(self):
        config = super().get_config()
        config.update({"mean": list(self.mean), "std": list(self.std)})
        return config
