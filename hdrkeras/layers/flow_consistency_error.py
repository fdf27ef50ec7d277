"""Forward-backward flow consistency error (DeAltHDR's FGMA reliability measure)."""

import keras
import tensorflow as tf

from hdrkeras.layers.spy_net import dealthdr_warp


@keras.saving.register_keras_serializable(package="hdrkeras")
class FlowConsistencyError(keras.layers.Layer):
    """D = mean_c |warp(warp(image, flow_fwd), flow_bwd) - image| (DeAltHDR Eq. 3-4).

    `image` is NOT clamped. The FGMA mask of a sensitivity s is D > 0.5 / s; D itself does
    not depend on s, so it can be computed once per frame pair and thresholded per request.

    Call args:
      inputs: [image, flow_fwd, flow_bwd]: image float32 [B, H, W, 3] linear RGB (the
        frame on whose grid flow_fwd lives), flows [B, H, W, 2] in pixels.

    Returns float32 [B, H, W, 1].
    """

    def call(self, inputs):
        image, flow_fwd, flow_bwd = inputs
        back = dealthdr_warp(dealthdr_warp(image, flow_fwd), flow_bwd)
        return tf.reduce_mean(tf.abs(back - image), axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (1,)
