"""Evaluation of HDR video models: per-sequence and overall metrics beside the video
baselines, our protocol, the official LAN-HDR protocol, and a temporal-stability figure.

Every model is a hdrkeras.methods.streaming StreamingModel run over the whole sequence
(frames with ground truth are the output frames scored). Per frame:

- ours (as for images, hdrkeras.evaluation.score): PSNR-T (= PSNR-mu, mu-law with mu =
  5000), PSNR-L, SSIM-T, SSIM-L (11x11 Gaussian window), PU21-PSNR, on the linear HDR as
  it is (ground truth on the exposure scale of the sequence).
- LAN-HDR's protocol (`lanhdr=True`; github haesoochung/LAN-HDR, datasets/*_dataset.py and
  utils/utils.py `evaluate` / `tensor2numpy`): ground truth divided by its maximum when that
  is above 1 (the prediction by the same factor, so the two stay comparable), both clamped
  to [0,1]; PSNR with data range 1 (skimage default for non-negative floats); SSIM as
  skimage's structural_similarity with its defaults: 7x7 uniform window, sample covariance
  (N / (N - 1)), K1 = 0.01, K2 = 0.03, data range = max - min of the ground truth (of its
  mu-law image for SSIM-T), mean over the valid region and the channels.
- temporal stability, tPSNR-T (none of the papers reports one): for consecutive scored
  frames k-1, k, the flow of the GROUND TRUTH from k to k-1 (OpenCV DIS on the 8-bit mu-law
  luminance of the ground truth) warps both the previous output and the previous ground
  truth onto frame k; the error is the difference between the output's frame-to-frame
  change and the ground truth's, e = (T(P_k) - T(W P_{k-1})) - (T(G_k) - T(W G_{k-1})), T the
  mu-law, over pixels that stay inside the frame and that the flow explains
  (|T(G_k) - T(W G_{k-1})| < TEMPORAL_TOL, which drops occlusions). tPSNR-T = 10 log10(1 /
  mean e^2) over all pairs of the sequence. Flicker and frame-to-frame jumps of the
  output lower it; real changes of the scene cancel.

Per sequence: the mean over its scored frames (tPSNR over its pairs); overall: the mean of
the sequences (hdrkeras.evaluation.means), written with the same CSV/Markdown writers.
"""

import time

import numpy as np

from hdrkeras import evaluation
from hdrkeras.errors import ConfigError, DataError
from hdrkeras.ops import tonemap

LANHDR_METRICS = ("lan_psnr_t", "lan_psnr_l", "lan_ssim_t", "lan_ssim_l")
TEMPORAL_METRICS = ("tpsnr_mu",)
TITLES = dict(evaluation.METRIC_TITLES)
TITLES.update({"psnr_mu": "PSNR-T", "psnr_l": "PSNR-L", "ssim_mu": "SSIM-T", "ssim_l": "SSIM-L",
               "lan_psnr_t": "PSNR-T (LAN-HDR)", "lan_psnr_l": "PSNR-L (LAN-HDR)",
               "lan_ssim_t": "SSIM-T (LAN-HDR)", "lan_ssim_l": "SSIM-L (LAN-HDR)",
               "tpsnr_mu": "tPSNR-T"})
BASELINES = ("video_reference_only", "video_classical_merge")
LANHDR_SSIM_WINDOW = 7
TEMPORAL_TOL = 0.05


def metric_names(lanhdr=False):
    return evaluation.METRICS + (LANHDR_METRICS if lanhdr else ()) + TEMPORAL_METRICS


def _box_valid(x, size):
    """Mean over size x size windows of [H,W,C] float64, 'valid' region (as skimage's
    uniform_filter followed by its crop of (size - 1) // 2 pixels)."""
    c = np.cumsum(np.cumsum(np.pad(x, ((1, 0), (1, 0), (0, 0))), 0), 1)
    s = c[size:, size:] - c[:-size, size:] - c[size:, :-size] + c[:-size, :-size]
    return s / float(size * size)


def ssim_uniform(pred, target, data_range, window=LANHDR_SSIM_WINDOW, k1=0.01, k2=0.03):
    """SSIM of [H,W,C] images as skimage.metrics.structural_similarity(target, pred,
    channel_axis=-1, data_range=data_range) with its defaults (uniform window, sample
    covariance); mean over the valid region and the channels."""
    x = np.asarray(target, np.float64)
    y = np.asarray(pred, np.float64)
    if min(x.shape[:2]) < window:
        raise ConfigError(f"SSIM needs images of at least {window}x{window} pixels, got "
                          f"{x.shape[1]}x{x.shape[0]}")
    n = window * window
    cov_norm = n / (n - 1.0)
    ux, uy = _box_valid(x, window), _box_valid(y, window)
    vx = cov_norm * (_box_valid(x * x, window) - ux * ux)
    vy = cov_norm * (_box_valid(y * y, window) - uy * uy)
    vxy = cov_norm * (_box_valid(x * y, window) - ux * uy)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux ** 2 + uy ** 2 + c1) * (vx + vy + c2))
    return float(s.mean())


def _psnr1(a, b):
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)


def lanhdr_scores(pred, target):
    """The official LAN-HDR test metrics of one frame (module docstring): pred, target
    float32 [H,W,3] linear HDR -> {"lan_psnr_t", "lan_psnr_l", "lan_ssim_t", "lan_ssim_l"}."""
    target = np.asarray(target, np.float64)
    pred = np.asarray(pred, np.float64)
    peak = target.max()
    scale = peak if peak > 1.0 else 1.0
    gt = np.clip(target / scale, 0.0, 1.0)
    out = np.clip(pred / scale, 0.0, 1.0)
    gt_t, out_t = tonemap.mu_law(gt), tonemap.mu_law(out)
    return {"lan_psnr_t": _psnr1(gt_t, out_t), "lan_psnr_l": _psnr1(gt, out),
            "lan_ssim_t": ssim_uniform(out_t, gt_t, gt_t.max() - gt_t.min()),
            "lan_ssim_l": ssim_uniform(out, gt, gt.max() - gt.min())}


def _mu(x):
    return tonemap.mu_law(np.clip(x, 0.0, 1.0))


def temporal_error(pred_prev, pred, gt_prev, gt):
    """(sum of squared errors, pixel count) of the temporal difference error between
    consecutive frames (module docstring), all float32 [H,W,3] linear HDR."""
    from hdrkeras.methods.video_baselines import LUMA, dis_flow, warp

    def gray(x):
        return np.round(_mu(np.tensordot(x, LUMA, axes=([-1], [0]))) * 255).astype(np.uint8)

    flow = dis_flow(gray(gt), gray(gt_prev))
    ones = np.ones(gt.shape[:2] + (1,), np.float32)
    warped = warp(np.concatenate([pred_prev, gt_prev, ones], -1).astype(np.float32), flow)
    inside = warped[..., 6] > 0.999
    d_gt = _mu(gt) - _mu(warped[..., 3:6])
    d_pred = _mu(pred) - _mu(warped[..., :3])
    keep = inside & np.all(np.abs(d_gt) < TEMPORAL_TOL, -1)
    e = (d_pred - d_gt)[keep]
    return float(np.sum(e.astype(np.float64) ** 2)), int(e.size)


def evaluate_sequence(model, sequence, lanhdr=False, tile=None, overlap=32):
    """Scores one StreamingModel on one sequence: (row dict, per-frame list of dicts)."""
    from hdrkeras.video_inference import outputs

    valid = np.flatnonzero(sequence.valid)
    if valid.size == 0:
        raise DataError(f"sequence {sequence.name} has no ground truth; cannot evaluate")
    frames, sq, count = [], 0.0, 0
    prev = None
    start = time.perf_counter()
    for c, pred in outputs(model, sequence, valid.tolist(), tile, overlap):
        gt = sequence.hdr(c)
        if gt.shape != pred.shape:
            raise DataError(f"sequence {sequence.name}: ground truth of frame {c} is "
                            f"{gt.shape[1]}x{gt.shape[0]}, the frame is "
                            f"{pred.shape[1]}x{pred.shape[0]}")
        row = {"frame": int(c)}
        row.update(evaluation.score(pred, gt))
        if lanhdr:
            row.update(lanhdr_scores(pred, gt))
        frames.append(row)
        if prev is not None and prev[0] == c - 1:
            s, n = temporal_error(prev[1], pred, prev[2], gt)
            sq, count = sq + s, count + n
        prev = (c, pred, gt)
    seconds = (time.perf_counter() - start) / len(frames)
    row = {"model": model.name, "scene": sequence.name, "frames": len(frames),
           "seconds": seconds}
    for m in metric_names(lanhdr):
        if m in TEMPORAL_METRICS:
            row[m] = (float("nan") if count == 0 else
                      float("inf") if sq == 0 else 10.0 * np.log10(count / sq))
        else:
            row[m] = float(np.mean([f[m] for f in frames]))
    return row, frames


def evaluate(models, sequences, lanhdr=False, tile=None, overlap=32, log=print):
    """Every model on every sequence: list of per-sequence rows (sequence-major)."""
    if not models:
        raise ConfigError("nothing to evaluate: give --model, --method or --baselines")
    if not sequences:
        raise ConfigError("no sequences to evaluate")
    rows = []
    for i, seq in enumerate(sequences):
        for model in models:
            row, _ = evaluate_sequence(model, seq, lanhdr, tile, overlap)
            rows.append(row)
            if log:
                log(f"[{i + 1}/{len(sequences)}] {seq.name} {model.name}: "
                    + "  ".join(f"{TITLES[m]} {row[m]:.4f}" for m in metric_names(lanhdr))
                    + f"  ({row['seconds']:.2f}s/frame)")
    return rows


def write_reports(rows, out_dir, lanhdr=False):
    """OUT/metrics.csv (per-sequence rows, then a `mean` row per model) and OUT/metrics.md."""
    return evaluation.write_reports(rows, out_dir, metric_names(lanhdr), TITLES)


def markdown_table(rows, lanhdr=False):
    return evaluation.markdown_table(rows, metric_names(lanhdr), TITLES)
