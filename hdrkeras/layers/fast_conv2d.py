"""A Conv2D whose inference picks the faster conv algorithm for the host at trace time."""

import keras
import tensorflow as tf

from hdrkeras.layers import cpu_inference
from hdrkeras.ops import winograd


@tf.function(jit_compile=True, reduce_retracing=True)
def _winograd_compiled(x, kernel):
    return winograd.conv3x3_same(x, winograd.transform_kernel(kernel))


@keras.saving.register_keras_serializable(package="hdrkeras")
class FastConv2D(keras.layers.Conv2D):
    """keras.layers.Conv2D (same arguments, weights and outputs) whose stride-1,
    dilation-1 3x3 'SAME' convs run as XLA-compiled Winograd F(2x2, 3x3) when
    `cpu_inference.use_winograd` says so (inference on a CPU without AVX-512, or
    HDRKERAS_WINOGRAD=1). The backbones' 3x3 convs are built from it.
    """

    def call(self, inputs, training=None):
        if not (self._winograd_shape() and cpu_inference.use_winograd(
                training, int(self.kernel.shape[2]))):
            return super().call(inputs)
        kernel = tf.convert_to_tensor(self.kernel)
        x = tf.cast(inputs, kernel.dtype)
        if cpu_inference.winograd_needs_xla():
            y = _winograd_compiled(x, kernel)
        else:
            y = winograd.conv3x3_same(x, winograd.transform_kernel(kernel))
        if self.use_bias:
            y = y + self.bias
        return self.activation(y) if self.activation is not None else y

    def _winograd_shape(self):
        return (tuple(self.kernel_size) == (3, 3) and tuple(self.strides) == (1, 1)
                and tuple(self.dilation_rate) == (1, 1) and self.padding == "same"
                and self.groups == 1 and self.data_format == "channels_last"
                and self.compute_dtype == "float32")
