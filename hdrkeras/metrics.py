"""Image-quality metrics for linear HDR predictions, batched in TensorFlow.

Every public metric takes `pred` and `target` as float [B, H, W, C] linear HDR (NHWC, RGB,
nominally in [0,1] as in the Kalantari / DeepHDRVideo test sets) and returns float32 [B]
per-image values; average over images yourself (the papers average per-scene values).
A rank-3 [H, W, C] input is treated as a batch of one.

Conventions, taken from the evaluation scripts of HDR-Transformer and SCTNet
(`test.py` + `utils.py`: skimage `peak_signal_noise_ratio(data_range=1)`, `range_compressor`
with mu = 5000, and `calculate_ssim` on images scaled by 255 and clipped to [0,255]):

- PSNR-l: PSNR of the raw linear values, data range 1, NO clipping.
- PSNR-mu: PSNR of `mu_law(x)` (mu = 5000), data range 1, no clipping above 1. Negative
  values (which would give NaN in the log) are set to 0 first; the official networks end
  in a sigmoid/ReLU so this never changes their numbers.
- SSIM-l / SSIM-mu: the linear / mu-law image clipped to [0,1], Gaussian window 11x11,
  sigma 1.5, K1 = 0.01, K2 = 0.03, data range 1, statistics over the "valid" region only
  (the reference filters with cv2.filter2D and crops 5 pixels), then the SSIM map is
  averaged over pixels AND channels (the reference calls `ssim` on the 3-channel image,
  which filters each channel separately and averages everything).
- PU21-PSNR: see `pu21_psnr`.
"""

import numpy as np
import tensorflow as tf

from hdrkeras.ops import tonemap

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
PU21_PEAK = 256.0  # pu21_metric.m: psnr(T, R, 256) on PU21 values
PU21_PEAK_LUMINANCE = 1000.0


def _as_batch(pred, target):
    pred = tf.cast(tf.convert_to_tensor(pred), tf.float32)
    target = tf.cast(tf.convert_to_tensor(target), tf.float32)
    if pred.shape.rank == 3:
        pred = pred[None]
    if target.shape.rank == 3:
        target = target[None]
    if pred.shape.rank != 4 or target.shape.rank != 4:
        raise ValueError(f"metrics expect NHWC tensors, got shapes {pred.shape} and {target.shape}")
    if pred.shape.is_fully_defined() and target.shape.is_fully_defined() and pred.shape != target.shape:
        raise ValueError(f"pred and target shapes differ: {pred.shape} vs {target.shape}")
    return pred, target


def psnr(pred, target, data_range=1.0):
    """PSNR per image: `10 log10(data_range**2 / MSE)`, MSE over H, W, C. [B] float32.

    Identical images give +inf (as skimage does).
    """
    pred, target = _as_batch(pred, target)
    mse = tf.reduce_mean(tf.square(pred - target), axis=[1, 2, 3])
    return 10.0 * tf.math.log(data_range ** 2 / mse) / np.log(10.0).astype(np.float32)


def _gaussian_1d(size, sigma):
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(x ** 2) / (2.0 * sigma ** 2))
    return (g / g.sum()).astype(np.float32)


def _filter_valid(x, g):
    """Separable Gaussian filter of each channel of NHWC `x`, 'valid' output region."""
    c = tf.shape(x)[-1]
    k = g.size
    kh = tf.tile(tf.reshape(tf.constant(g), [k, 1, 1, 1]), [1, 1, c, 1])
    kw = tf.tile(tf.reshape(tf.constant(g), [1, k, 1, 1]), [1, 1, c, 1])
    x = tf.nn.depthwise_conv2d(x, kh, strides=[1, 1, 1, 1], padding="VALID")
    return tf.nn.depthwise_conv2d(x, kw, strides=[1, 1, 1, 1], padding="VALID")


def ssim(pred, target, data_range=1.0, window=SSIM_WINDOW, sigma=SSIM_SIGMA,
         k1=SSIM_K1, k2=SSIM_K2):
    """SSIM per image (Wang et al. 2004), Gaussian window, valid region, mean over pixels
    and channels. Inputs are used as given (no clipping). H and W must be >= `window`.
    """
    pred, target = _as_batch(pred, target)
    h, w = pred.shape[1], pred.shape[2]
    if (h is not None and h < window) or (w is not None and w < window):
        raise ValueError(f"SSIM needs images of at least {window}x{window} pixels, got {h}x{w}")
    g = _gaussian_1d(window, sigma)
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    mu1 = _filter_valid(pred, g)
    mu2 = _filter_valid(target, g)
    mu1_sq, mu2_sq, mu12 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    s1 = _filter_valid(pred * pred, g) - mu1_sq
    s2 = _filter_valid(target * target, g) - mu2_sq
    s12 = _filter_valid(pred * target, g) - mu12
    ssim_map = ((2.0 * mu12 + c1) * (2.0 * s12 + c2)) / ((mu1_sq + mu2_sq + c1) * (s1 + s2 + c2))
    return tf.reduce_mean(ssim_map, axis=[1, 2, 3])


def _mu(x):
    return tonemap.mu_law(tf.maximum(x, 0.0))


def psnr_l(pred, target):
    """PSNR-l: PSNR of linear HDR [B,H,W,C], data range 1, no clipping. [B] float32."""
    return psnr(pred, target, 1.0)


def psnr_mu(pred, target):
    """PSNR-mu: PSNR of mu-law (mu=5000) tonemapped linear HDR [B,H,W,C], data range 1."""
    pred, target = _as_batch(pred, target)
    return psnr(_mu(pred), _mu(target), 1.0)


def ssim_l(pred, target):
    """SSIM-l: SSIM of linear HDR [B,H,W,C] clipped to [0,1]. [B] float32."""
    pred, target = _as_batch(pred, target)
    return ssim(tf.clip_by_value(pred, 0.0, 1.0), tf.clip_by_value(target, 0.0, 1.0))


def ssim_mu(pred, target):
    """SSIM-mu: SSIM of mu-law tonemapped linear HDR [B,H,W,C], clipped to [0,1]."""
    pred, target = _as_batch(pred, target)
    return ssim(tf.clip_by_value(_mu(pred), 0.0, 1.0), tf.clip_by_value(_mu(target), 0.0, 1.0))


def pu21_psnr(pred, target, peak_luminance=PU21_PEAK_LUMINANCE):
    """PU21-PSNR: PSNR of PU21-encoded absolute RGB values, peak 256 (as `pu21_metric.m`).

    Linear HDR [B,H,W,3] is made absolute by mapping 1.0 (the peak of the normalised test
    sets) to `peak_luminance` cd/m^2, following the PU21 HDR example (image peak ->
    display peak); values are then clamped by the encoder to [0.005, 10000] cd/m^2 and
    each RGB channel is encoded (`pu21_metric(..., 'PSNR')` does not convert to
    luminance). Default peak: 1000 cd/m^2 (a common HDR display). NOTE: SCTNet's MATLAB
    evaluation instead feeds the 8-bit mu-law PNGs through an SDR display model
    (55 cd/m^2, 1000:1, 10 lux); numbers from the two conventions are not comparable.
    """
    pred, target = _as_batch(pred, target)
    pu_pred = tonemap.pu21_encode(pred * peak_luminance)
    pu_target = tonemap.pu21_encode(target * peak_luminance)
    return psnr(pu_pred, pu_target, PU21_PEAK)


__all__ = ["psnr", "ssim", "psnr_l", "psnr_mu", "ssim_l", "ssim_mu", "pu21_psnr"]
