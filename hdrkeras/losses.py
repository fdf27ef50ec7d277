"""Training losses. One contract: `loss(pred, target, weight=None) -> scalar tensor`.

`pred` and `target` are float32 [B, H, W, 3] NHWC linear HDR (>= 0, nominally [0,1] for
the sigmoid backbones). `weight` (optional) multiplies BOTH tonemapped tensors before the
difference, broadcast against them ([B,H,W,1] masks, [B,H,W,3] weights), exactly as the
official `L1MuLoss(pred, label, mask)`; with reduction "mean" the mean runs over every
element, masked-out zeros included (nn.L1Loss semantics), not over the mask's support.
Every loss has a `loss_weight` multiplier and a validated `reduction`.

The SelfHDR stage losses (`SelfHDRStage1Loss`, `SelfHDRStage2Loss`) take the extra inputs
their official `backward()` reads and return a dict of terms (see their docstrings).
"""

import tensorflow as tf

from hdrkeras.errors import ConfigError
from hdrkeras.ops.tonemap import MU, mu_law
from hdrkeras.ops.weights import triangle_weight

_REDUCTIONS = ("mean", "sum", "none")


def _f32(x):
    return tf.cast(tf.convert_to_tensor(x), tf.float32)


def _reduce(x, reduction):
    if reduction == "mean":
        return tf.reduce_mean(x)
    if reduction == "sum":
        return tf.reduce_sum(x)
    return x


class Loss:
    """Base: stores `loss_weight` and `reduction`; subclasses implement `compute`."""

    def __init__(self, loss_weight=1.0, reduction="mean"):
        if reduction not in _REDUCTIONS:
            raise ConfigError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.loss_weight = float(loss_weight)
        self.reduction = reduction

    def compute(self, pred, target, weight):
        raise NotImplementedError

    def __call__(self, pred, target, weight=None):
        pred, target = _f32(pred), _f32(target)
        weight = None if weight is None else _f32(weight)
        return self.compute(pred, target, weight) * self.loss_weight

    def get_config(self):
        return {"loss_weight": self.loss_weight, "reduction": self.reduction}


class MuLawL1(Loss):
    """L1 between mu-law tonemapped HDR: |T(pred)*w - T(target)*w|, T(x)=log(1+mu x)/log(1+mu).

    The official `L1MuLoss` of SelfHDR and SCTNet, ESBN's fusion loss (loss_weight 2: its
    [-1, 1] scaling) and every "l1_mu" log: the one mu-law L1. Inputs: linear HDR >= 0.

    Args:
      mu: float. mu-law compression. Defaults to 5000.
      loss_weight: float. multiplier. Defaults to 1.
      reduction: "mean" | "sum" | "none". Defaults to "mean".
    """

    def __init__(self, mu=MU, loss_weight=1.0, reduction="mean"):
        super().__init__(loss_weight, reduction)
        self.mu = float(mu)

    def compute(self, pred, target, weight):
        tp, tt = mu_law(pred, self.mu), mu_law(target, self.mu)
        if weight is not None:
            tp, tt = tp * weight, tt * weight
        return _reduce(tf.abs(tp - tt), self.reduction)

    def get_config(self):
        return {"mu": self.mu, **super().get_config()}


class PerceptualLoss(Loss):
    """Weighted L1 between VGG features of (optionally mu-law tonemapped) images.

    loss = sum_l layer_weights[l] * mean |phi_l(x) - phi_l(y)|, x = T(pred)*w, y =
    T(target)*w (T skipped when mu is None). `VGGFeatures` applies the ImageNet input
    normalisation matching the weights file. With loss_weight 0 the VGG is never built
    and no weights file is needed.

    Args:
      arch: "vgg16" | "vgg19".
      layer_weights: dict torch-style layer name -> weight, e.g. {"relu3_2": 0.25}.
      mu: float or None. mu-law applied to pred/target before the VGG. Defaults to 5000.
      weights_path: local VGG weights (see hdrkeras.vgg); None searches the Keras cache.
      loss_weight: float. multiplier. Defaults to 1.
    """

    def __init__(self, arch, layer_weights, mu=MU, weights_path=None, loss_weight=1.0):
        super().__init__(loss_weight, "mean")
        self.arch = arch
        self.layer_weights = dict(layer_weights)
        self.mu = None if mu is None else float(mu)
        self.weights_path = weights_path
        self.features = None
        if self.loss_weight != 0.0:
            from hdrkeras.vgg import VGGFeatures

            self.features = VGGFeatures(arch, list(self.layer_weights), weights_path)

    def __call__(self, pred, target, weight=None):
        if self.features is None:
            return tf.zeros((), tf.float32)
        return super().__call__(pred, target, weight)

    def compute(self, pred, target, weight):
        if self.mu is not None:
            pred, target = mu_law(pred, self.mu), mu_law(target, self.mu)
        if weight is not None:
            pred, target = pred * weight, target * weight
        # One VGG pass over both batches.
        feats = self.features(tf.concat([pred, target], axis=0))
        n = tf.shape(pred)[0]
        total = tf.zeros((), tf.float32)
        for w, f in zip(self.layer_weights.values(), feats):
            f = tf.cast(f, tf.float32)
            total += w * tf.reduce_mean(tf.abs(f[:n] - f[n:]))
        return total

    def get_config(self):
        return {"arch": self.arch, "layer_weights": self.layer_weights, "mu": self.mu,
                "weights_path": self.weights_path, "loss_weight": self.loss_weight}


class SCTNetPerceptualLoss(PerceptualLoss):
    """SCTNet's VGGPerceptualLoss(resize=False) on mu-law images.

    VGG16 relu1_2 + relu2_2 + relu3_3 + relu4_3 (weight 1 each), L1 means summed, input
    ImageNet-normalised T(x) (models/loss.py of Zongwei97/SCTNet). In SCTNet's
    JointReconPerceptualLoss it enters with loss weight alpha = 0.01.
    """

    LAYERS = {"relu1_2": 1.0, "relu2_2": 1.0, "relu3_3": 1.0, "relu4_3": 1.0}

    def __init__(self, mu=MU, weights_path=None, loss_weight=0.01):
        super().__init__("vgg16", self.LAYERS, mu, weights_path, loss_weight)

    def get_config(self):
        return {"mu": self.mu, "weights_path": self.weights_path, "loss_weight": self.loss_weight}


class SCTNetLoss:
    """SCTNet's JointReconPerceptualLoss: MuLawL1 + alpha * SCTNetPerceptualLoss.

    Args:
      alpha: float. perceptual weight (0 disables the VGG; no weights file needed).
        Defaults to 0.01.
      mu: float. Defaults to 5000.
      weights_path: local VGG16 weights; None searches the Keras cache.
    """

    def __init__(self, alpha=0.01, mu=MU, weights_path=None):
        self.alpha = float(alpha)
        self.mu = float(mu)
        self.weights_path = weights_path
        self.recon = MuLawL1(mu)
        self.perceptual = SCTNetPerceptualLoss(mu, weights_path, loss_weight=alpha)

    def __call__(self, pred, target, weight=None):
        return self.recon(pred, target, weight) + self.perceptual(pred, target, weight)

    def get_config(self):
        return {"alpha": self.alpha, "mu": self.mu, "weights_path": self.weights_path}


class SelfHDRVGGLoss(PerceptualLoss):
    """SelfHDR's VGGLoss: (relu3_2 + relu4_2 + 2 * relu5_2) / 4 L1 of VGG19 features.

    Input to the VGG: ImageNet-normalised T(x)*mask (models/networks.py normalize_batch).
    The official code feeds BGR-ordered data (cv2 loaders) to the RGB VGG; we feed RGB,
    which is what the VGG weights expect.
    """

    LAYERS = {"relu3_2": 0.25, "relu4_2": 0.25, "relu5_2": 0.5}

    def __init__(self, mu=MU, weights_path=None, loss_weight=1.0):
        super().__init__("vgg19", self.LAYERS, mu, weights_path, loss_weight)

    def get_config(self):
        return {"mu": self.mu, "weights_path": self.weights_path, "loss_weight": self.loss_weight}


# --- SelfHDR (Zhang et al., "Self-supervised HDR imaging from motion and exposure cues",
# ICLR 2024): the two stages' losses exactly as SelfHDR{1,2}Model.backward. ---

def consistency_mask(a, b, threshold, weight=None, mu=MU):
    """1 where mean_c |T(a)*w - T(b)*w| < threshold, else 0: float32 [B, H, W, 1].

    a, b: linear HDR [B, H, W, C] NHWC; weight: broadcastable multiplier or None.
    """
    ta, tb = mu_law(_f32(a), mu), mu_law(_f32(b), mu)
    if weight is not None:
        weight = _f32(weight)
        ta, tb = ta * weight, tb * weight
    m = tf.reduce_mean(tf.abs(ta - tb), axis=-1, keepdims=True)
    return tf.cast(m < threshold, tf.float32)


class SelfHDRStage1Loss:
    """Stage 1 (structure-focused network): structure expansion + structure preserving.

    `terms(pred, y_color, reference)` with
      pred: network output, linear HDR [B,H,W,3];
      y_color: colour pseudo-label, linear HDR [B,H,W,3];
      reference: the reference frame input [B,H,W,6] = [H_ref (linear), L_ref (gamma LDR)];
    returns {"total", "stru_expan", "stru_prese"} scalars and {"label_mask" [B,H,W,1],
    "in_mask" [B,H,W,3]}:
      w = triangle_weight(L_ref); M1 = consistency_mask(y_color, H_ref, thr, w);
      stru_expan = MuLawL1(pred, y_color, M1); stru_prese = k * MuLawL1(pred, H_ref, w).
    `__call__` returns terms["total"].

    Args:
      mu: float. Defaults to 5000.
      mask_threshold: float. Defaults to 5/255.
      stru_prese_weight: float. k. Defaults to 4.
    """

    def __init__(self, mu=MU, mask_threshold=5.0 / 255.0, stru_prese_weight=4.0):
        self.mu = float(mu)
        self.mask_threshold = float(mask_threshold)
        self.stru_prese_weight = float(stru_prese_weight)
        self.l1 = MuLawL1(mu)

    def terms(self, pred, y_color, reference):
        reference = _f32(reference)
        h_ref, l_ref = reference[..., 0:3], reference[..., 3:6]
        in_mask = triangle_weight(l_ref)
        label_mask = tf.stop_gradient(
            consistency_mask(y_color, h_ref, self.mask_threshold, in_mask, self.mu))
        stru_expan = self.l1(pred, y_color, label_mask)
        stru_prese = self.l1(pred, h_ref, in_mask) * self.stru_prese_weight
        return {"total": stru_expan + stru_prese, "stru_expan": stru_expan,
                "stru_prese": stru_prese, "label_mask": label_mask, "in_mask": in_mask}

    def __call__(self, pred, y_color, reference):
        return self.terms(pred, y_color, reference)["total"]

    def get_config(self):
        return {"mu": self.mu, "mask_threshold": self.mask_threshold,
                "stru_prese_weight": self.stru_prese_weight}


class SelfHDRStage2Loss:
    """Stage 2 (colour): masked mu-law L1 to Y_color + VGG19 structure loss to Y_stru.

    `terms(pred, y_color, y_stru)` (all linear HDR [B,H,W,3] NHWC) returns {"total",
    "color", "stru"} scalars and "label_mask" [B,H,W,1]:
      M2 = consistency_mask(y_color, y_stru, thr); color = MuLawL1(pred, y_color, M2);
      stru = vgg_weight * SelfHDRVGGLoss(pred, y_stru).
    With vgg_weight 0 the VGG is not built and no weights file is needed.

    Args:
      mu: float. Defaults to 5000.
      mask_threshold: float. Defaults to 10/255.
      vgg_weight: float. Defaults to 1.
      vgg_weights_path: local VGG19 weights (hdrkeras.vgg); None searches the Keras cache.
    """

    def __init__(self, mu=MU, mask_threshold=10.0 / 255.0, vgg_weight=1.0, vgg_weights_path=None):
        self.mu = float(mu)
        self.mask_threshold = float(mask_threshold)
        self.vgg_weight = float(vgg_weight)
        self.vgg_weights_path = vgg_weights_path
        self.l1 = MuLawL1(mu)
        self.vgg = SelfHDRVGGLoss(mu, vgg_weights_path, loss_weight=vgg_weight)

    def terms(self, pred, y_color, y_stru):
        label_mask = tf.stop_gradient(
            consistency_mask(y_color, y_stru, self.mask_threshold, None, self.mu))
        color = self.l1(pred, y_color, label_mask)
        stru = self.vgg(pred, y_stru)
        return {"total": color + stru, "color": color, "stru": stru, "label_mask": label_mask}

    def __call__(self, pred, y_color, y_stru):
        return self.terms(pred, y_color, y_stru)["total"]

    def get_config(self):
        return {"mu": self.mu, "mask_threshold": self.mask_threshold,
                "vgg_weight": self.vgg_weight, "vgg_weights_path": self.vgg_weights_path}


# --- LAN-HDR (Chung & Cho, ICCV 2023): utils/loss.py and the objective of
# trainer.py:Trainer.train. All terms compare mu-law tonemapped images. ---

class FrequencyL1(Loss):
    """mean |FFT2(T(pred)) - FFT2(T(target))|: L1 of complex spectra (LAN-HDR FrequencyLoss).

    Full complex 2-D FFT over H and W per image and channel, unscaled ("backward" norm);
    |.| is the complex modulus, the mean runs over B*C*H*W complex entries (torch
    nn.L1Loss on complex tensors). Its scale is about sqrt(H*W) times the pixel L1.
    pred, target: linear HDR [B, H, W, C] NHWC; `weight` multiplies both tonemapped
    images. T is skipped when mu is None.

    Args:
      mu: float or None. Defaults to 5000.
      loss_weight: float. Defaults to 1.
      reduction: "mean" | "sum" | "none". Defaults to "mean".
    """

    def __init__(self, mu=MU, loss_weight=1.0, reduction="mean"):
        super().__init__(loss_weight, reduction)
        self.mu = None if mu is None else float(mu)

    def compute(self, pred, target, weight):
        if self.mu is not None:
            pred, target = mu_law(pred, self.mu), mu_law(target, self.mu)
        if weight is not None:
            pred, target = pred * weight, target * weight
        diff = tf.transpose(pred - target, [0, 3, 1, 2])  # FFT is linear: FFT(a)-FFT(b)
        spec = tf.signal.fft2d(tf.complex(diff, tf.zeros_like(diff)))
        return _reduce(tf.abs(spec), self.reduction)

    def get_config(self):
        return {"mu": self.mu, **super().get_config()}


class CharbonnierLoss(Loss):
    """sum sqrt((pred - target)**2 + eps**2) / numel (LAN-HDR CharbonnierLoss, eps 1e-6).

    Applied as is, in whatever domain the tensors come in (LAN-HDR feeds it frame
    differences of tonemapped images, see `LanHdrLoss`). The official code sums then
    divides by the element count: that is reduction "mean".

    Args:
      eps: float. Defaults to 1e-6.
      loss_weight: float. Defaults to 1.
      reduction: "mean" | "sum" | "none". Defaults to "mean".
    """

    def __init__(self, eps=1e-6, loss_weight=1.0, reduction="mean"):
        super().__init__(loss_weight, reduction)
        self.eps = float(eps)

    def compute(self, pred, target, weight):
        diff = pred - target
        if weight is not None:
            diff = diff * weight
        return _reduce(tf.sqrt(tf.square(diff) + self.eps ** 2), self.reduction)

    def get_config(self):
        return {"eps": self.eps, **super().get_config()}


class LanHdrPerceptualLoss(PerceptualLoss):
    """LAN-HDR's PerceptualLoss: MSE (not L1) between VGG19 relu5_1 features of T(pred)
    and T(target), ImageNet-normalised input (utils/vgg19.py). With loss_weight 0 no VGG
    is built and no weights file is needed."""

    LAYERS = {"relu5_1": 1.0}

    def __init__(self, mu=MU, weights_path=None, loss_weight=1.0):
        super().__init__("vgg19", self.LAYERS, mu, weights_path, loss_weight)

    def compute(self, pred, target, weight):
        if self.mu is not None:
            pred, target = mu_law(pred, self.mu), mu_law(target, self.mu)
        if weight is not None:
            pred, target = pred * weight, target * weight
        feats = self.features(tf.concat([pred, target], axis=0))[0]
        feats = tf.cast(feats, tf.float32)
        n = tf.shape(pred)[0]
        return tf.reduce_mean(tf.square(feats[:n] - feats[n:]))

    def get_config(self):
        return {"mu": self.mu, "weights_path": self.weights_path, "loss_weight": self.loss_weight}


class LanHdrLoss:
    """LAN-HDR's training objective on two temporally neighbouring windows:

      l1 + vgg_weight * VGG19-relu5_1 MSE + frequency_weight * FrequencyL1
         + temporal_weight * Charbonnier(T(pred_t) - T(pred_t1), T(gt_t) - T(gt_t1))

    where l1 = MuLawL1(pred_t, gt_t); the VGG and frequency terms use window t only; the
    temporal term compares frame-to-frame changes of prediction and ground truth.
    `terms(pred_t, gt_t, pred_t1, gt_t1)` (linear HDR [B, H, W, 3] NHWC, the outputs and
    centre-frame ground truths of the two windows) returns {"total", "l1", "vgg",
    "frequency", "temporal"}; `__call__` returns the total.

    Args:
      vgg_weight: float. 0 disables the VGG (no weights file needed). Defaults to 0.1.
      frequency_weight: float. Defaults to 0.1.
      temporal_weight: float. Defaults to 0.1.
      mu: float. Defaults to 5000.
      eps: float. Charbonnier eps. Defaults to 1e-6.
      vgg_weights_path: local VGG19 weights (hdrkeras.vgg); None searches the Keras cache.
        A missing file raises MissingWeightsError unless vgg_weight is 0.
    """

    def __init__(self, vgg_weight=0.1, frequency_weight=0.1, temporal_weight=0.1, mu=MU,
                 eps=1e-6, vgg_weights_path=None):
        self.vgg_weight = float(vgg_weight)
        self.frequency_weight = float(frequency_weight)
        self.temporal_weight = float(temporal_weight)
        self.mu = float(mu)
        self.eps = float(eps)
        self.vgg_weights_path = vgg_weights_path
        self.l1 = MuLawL1(mu)
        self.vgg = LanHdrPerceptualLoss(mu, vgg_weights_path, loss_weight=1.0
                                        if self.vgg_weight else 0.0)
        self.frequency = FrequencyL1(mu)
        self.charbonnier = CharbonnierLoss(eps)

    def terms(self, pred_t, gt_t, pred_t1, gt_t1):
        tm = [mu_law(_f32(x), self.mu) for x in (pred_t, gt_t, pred_t1, gt_t1)]
        l1 = self.l1(pred_t, gt_t)
        vgg = self.vgg(pred_t, gt_t)
        frequency = self.frequency(pred_t, gt_t)
        temporal = self.charbonnier(tm[0] - tm[2], tm[1] - tm[3])
        total = (l1 + self.vgg_weight * vgg + self.frequency_weight * frequency
                 + self.temporal_weight * temporal)
        return {"total": total, "l1": l1, "vgg": vgg, "frequency": frequency,
                "temporal": temporal}

    def __call__(self, pred_t, gt_t, pred_t1, gt_t1):
        return self.terms(pred_t, gt_t, pred_t1, gt_t1)["total"]

    def get_config(self):
        return {"vgg_weight": self.vgg_weight, "frequency_weight": self.frequency_weight,
                "temporal_weight": self.temporal_weight, "mu": self.mu, "eps": self.eps,
                "vgg_weights_path": self.vgg_weights_path}
