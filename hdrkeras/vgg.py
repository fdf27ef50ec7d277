"""VGG16 / VGG19 feature extractors for perceptual losses, from LOCAL ImageNet weights.

Nothing here downloads: the weights come from a file the user supplies (`--vgg_weights`)
or from the Keras cache (`$KERAS_HOME/models/` or `~/.keras/models/`). Two sources are
accepted, each with the input normalisation its weights were trained with:

- Keras weights (`.h5` as `keras.applications` saves them, e.g.
  `vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`, or a Keras 3 `.weights.h5`): the
  original Caffe VGG weights; input is BGR, 0..255, minus the Caffe channel means.
- torchvision weights exported to `.npz` (state-dict keys `features.<i>.weight/bias`,
  OIHW; the official PyTorch losses use these): input is RGB in [0,1], normalised with the
  ImageNet mean/std.

Either way `VGGFeatures` takes RGB images on the [0,1] scale (NHWC float32) and applies the
matching normalisation itself. The two sources have different feature scales, so a
perceptual loss computed on Keras weights is NOT numerically the official torchvision loss;
use the `.npz` export to reproduce the official loss values.
"""

import os

import numpy as np

from hdrkeras.errors import ConfigError, DataError, MissingWeightsError

WEIGHT_FILES = {
    "vgg16": "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "vgg19": "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
}

# Convs per block.
_BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # RGB, torchvision normalisation
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)  # keras.applications.vgg*.preprocess_input


def _check_arch(arch):
    if arch not in _BLOCKS:
        raise ConfigError(f"Unknown VGG architecture {arch!r}; expected one of {sorted(_BLOCKS)}")


def keras_layer_name(arch, relu_name):
    """Torch-style feature name ('relu3_2') -> keras.applications layer name ('block3_conv2').

    In keras.applications the ReLU is fused into the conv, so reluB_C is blockB_convC.
    """
    _check_arch(arch)
    try:
        block, conv = (int(v) for v in relu_name.replace("relu", "").split("_"))
    except ValueError:
        raise ConfigError(f"Bad VGG feature name {relu_name!r}; expected like 'relu3_2'") from None
    if not (1 <= block <= 5 and 1 <= conv <= _BLOCKS[arch][block - 1]):
        raise ConfigError(f"{arch} has no layer {relu_name!r}")
    return f"block{block}_conv{conv}"


def cache_dirs():
    """Directories searched for the standard weight files, in order."""
    dirs = []
    if os.environ.get("KERAS_HOME"):
        dirs.append(os.path.join(os.environ["KERAS_HOME"], "models"))
    dirs.append(os.path.join(os.path.expanduser("~"), ".keras", "models"))
    return dirs


def resolve_weights(arch, weights_path=None):
    """Returns the local weights file to use for `arch`, or raises MissingWeightsError.

    Args:
      arch: "vgg16" or "vgg19".
      weights_path: a weights file, a directory holding the standard file name, or None
        to search the Keras cache directories.
    """
    _check_arch(arch)
    fname = WEIGHT_FILES[arch]
    if weights_path:
        path = os.fspath(weights_path)
        if os.path.isdir(path):
            path = os.path.join(path, fname)
        if os.path.isfile(path):
            return path
        looked = [path]
    else:
        looked = [os.path.join(d, fname) for d in cache_dirs()]
        for path in looked:
            if os.path.isfile(path):
                return path
    raise MissingWeightsError(
        f"{arch.upper()} ImageNet weights not found (looked for {', '.join(looked)}). "
        f"hdrkeras never downloads them: fetch {fname} (keras.applications ImageNet "
        f"'notop' weights) or a torchvision {arch} state dict exported to .npz on a machine "
        f"with network access, then pass it with --vgg_weights PATH or copy it to "
        f"~/.keras/models/. Setting the perceptual loss weight to 0 disables the loss.")


def _torch_conv_indices(arch):
    """Indices of the Conv2d modules inside torchvision's `vgg.features`."""
    out, i = [], 0
    for n in _BLOCKS[arch]:
        for _ in range(n):
            out.append(i)
            i += 2  # conv, relu
        i += 1  # max pool
    return out


def _load_torch_npz(model, arch, path):
    with np.load(path) as data:
        sd = {k: data[k] for k in data.files}
    if sd and all(k.startswith("features.") for k in sd):
        sd = {k[len("features."):]: v for k, v in sd.items()}
    names = [f"block{b}_conv{c}" for b, n in enumerate(_BLOCKS[arch], 1) for c in range(1, n + 1)]
    for name, idx in zip(names, _torch_conv_indices(arch)):
        try:
            w, b = sd[f"{idx}.weight"], sd[f"{idx}.bias"]
        except KeyError:
            raise DataError(f"{path}: torchvision {arch} weights lack features.{idx}.weight/bias "
                            f"(keys found: {sorted(sd)[:6]}...)") from None
        layer = model.get_layer(name)
        kernel = np.transpose(w, (2, 3, 1, 0)).astype(np.float32)
        if kernel.shape != tuple(layer.kernel.shape):
            raise DataError(f"{path}: features.{idx}.weight has shape {w.shape}, not a {arch} "
                            f"{name} kernel")
        layer.set_weights([kernel, b.astype(np.float32)])


class VGGFeatures:
    """Frozen VGG feature extractor returning the requested ReLU outputs.

    Call with RGB images, float32 [B, H, W, 3] NHWC on the [0,1] scale (e.g. mu-law
    tonemapped HDR); returns a list of feature maps [B, h, w, C], one per entry of
    `layers`, in that order. Input normalisation follows the weights' source (see module
    docstring).

    Args:
      arch: "vgg16" or "vgg19".
      layers: sequence of torch-style names, e.g. ("relu3_2", "relu4_2", "relu5_2").
      weights_path: local weights file or directory; None searches the Keras cache.
    """

    def __init__(self, arch, layers, weights_path=None):
        import keras

        _check_arch(arch)
        self.arch = arch
        self.layers = tuple(layers)
        self.weights_path = resolve_weights(arch, weights_path)
        app = keras.applications.VGG16 if arch == "vgg16" else keras.applications.VGG19
        base = app(include_top=False, weights=None, input_shape=(None, None, 3))
        if self.weights_path.endswith(".npz"):
            _load_torch_npz(base, arch, self.weights_path)
            self.preprocessing = "torch"
        else:
            try:
                base.load_weights(self.weights_path)
            except Exception as e:  # h5py / keras raise many types for a bad file
                raise DataError(f"{self.weights_path}: not loadable as Keras {arch} notop "
                                f"weights: {e}") from None
            self.preprocessing = "caffe"
        names = [keras_layer_name(arch, n) for n in self.layers]
        self.model = keras.Model(base.input, [base.get_layer(n).output for n in names],
                                 name=f"{arch}_features")
        self.model.trainable = False

    def preprocess(self, images):
        """RGB [0,1]-scale NHWC -> the input normalisation of the loaded weights."""
        import tensorflow as tf

        x = tf.cast(images, tf.float32)
        if self.preprocessing == "torch":
            return (x - tf.constant(IMAGENET_MEAN)) / tf.constant(IMAGENET_STD)
        return x[..., ::-1] * 255.0 - tf.constant(CAFFE_MEAN_BGR)

    def __call__(self, images):
        feats = self.model(self.preprocess(images), training=False)
        return list(feats) if isinstance(feats, (list, tuple)) else [feats]
