"""Evaluation of HDR models on test scenes: per-scene metrics, means, CSV/Markdown reports.

Metrics (hdrkeras.metrics, all on linear HDR NHWC): PSNR-mu, PSNR-l, SSIM-mu, SSIM-l,
PU21-PSNR, and for images the output's colour saturation and its ratio to the ground
truth's (hdrkeras.data.scene_stats.saturation): a washed-out output can still score well
in PSNR, so every table shows whether colour survived. Every model is scored through the
same `Predictor` interface (hdrkeras.inference), optionally tiled, so learned models and
the zero-training baselines (`reference_only`, `classical_merge`) share one code path and
one table.
"""

import csv
import io as _io
import math
import os
import time

import numpy as np

from hdrkeras import tiling
from hdrkeras.errors import ConfigError
from hdrkeras.io.atomic import atomic_write_text

METRICS = ("psnr_mu", "psnr_l", "ssim_mu", "ssim_l", "pu21_psnr")
# Colour of the output (images): its saturation and that over the ground truth's, per scene.
COLOUR_METRICS = ("saturation", "saturation_ratio")
IMAGE_METRICS = METRICS + COLOUR_METRICS
METRIC_TITLES = {"psnr_mu": "PSNR-μ", "psnr_l": "PSNR-l", "ssim_mu": "SSIM-μ",
                 "ssim_l": "SSIM-l", "pu21_psnr": "PU21-PSNR", "saturation": "Saturation",
                 "saturation_ratio": "Sat./GT"}
# Decimals in the Markdown table: SSIMs 4, these as given, the rest 2.
DECIMALS = {"saturation": 3}
BASELINES = ("reference_only", "classical_merge")
MEAN = "mean"


def score(pred, target):
    """Metrics of one image: pred, target float32 [H,W,3] (or [1,H,W,3]) linear HDR ->
    dict metric -> float."""
    from hdrkeras import metrics

    pred = np.asarray(pred, np.float32)
    target = np.asarray(target, np.float32)
    if pred.ndim == 3:
        pred, target = pred[None], target[None]
    if pred.shape != target.shape:
        raise ConfigError(f"prediction shape {pred.shape} != ground truth shape {target.shape}")
    out = {}
    for name in METRICS:
        value = getattr(metrics, name)(pred, target)
        out[name] = float(np.asarray(value).reshape(-1)[0])
    return out


def colour_scores(pred, target):
    """Colour of one output: {"saturation": of pred, "saturation_ratio": that over the
    ground truth's} (scene_stats.saturation, issue 18's measure; nan for a grey truth).
    pred, target: float [H,W,3] (or [1,H,W,3]) linear HDR."""
    from hdrkeras.data.scene_stats import saturation

    ours = saturation(np.asarray(pred, np.float32).reshape(np.shape(pred)[-3:]))
    truth = saturation(np.asarray(target, np.float32).reshape(np.shape(target)[-3:]))
    return {"saturation": ours, "saturation_ratio": ours / truth if truth > 0 else math.nan}


def unique_names(predictors):
    """Report labels: predictor names, suffixed #2, #3 ... where two coincide."""
    seen = {}
    out = []
    for p in predictors:
        base = p.name
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return out


def evaluate(predictors, scenes, tile=None, overlap=32, pad_mode="reflect", log=print,
             max_memory_gb=tiling.DEFAULT_MAX_MEMORY_GB):
    """Runs every predictor on every scene and scores it against the ground truth.

    Args:
      predictors: list of hdrkeras.predictor.Predictor (or objects with `.name` and
        `__call__(ldr [B,N,H,W,3], exposures [B,N]) -> [B,H,W,3]`).
      scenes: list of hdrkeras.data Scene with ground truth (`hdr_path`).
      tile, overlap, pad_mode: tiling, see hdrkeras.tiling.run_tiled; tile
        hdrkeras.tiling.AUTO chooses per scene and model (whole image if it fits in
        `max_memory_gb`, else the largest tile that does; see tiling.resolve_tile).
      log: callable(str) for progress lines, or None.

    Returns:
      list of row dicts {"model", "scene", "seconds", *IMAGE_METRICS}, scene-major order.
    """
    if not predictors:
        raise ConfigError("nothing to evaluate: give --model, --method or --baselines")
    if not scenes:
        raise ConfigError("no scenes to evaluate")
    names = unique_names(predictors)
    rows = []
    for i, scene in enumerate(scenes):
        ldr, exposures, hdr = scene.load()
        if hdr is None:
            raise ConfigError(f"scene {scene.name} has no ground truth; cannot evaluate")
        for name, predictor in zip(names, predictors):
            chosen, why = tiling.resolve_tile(tile, ldr.shape[1], ldr.shape[2], predictor,
                                              overlap=overlap, max_memory_gb=max_memory_gb)
            if log and tile == tiling.AUTO and chosen is not None:
                log(f"[{i + 1}/{len(scenes)}] {scene.name} {name}: {why}")
            start = time.perf_counter()
            pred = tiling.run_tiled(predictor, ldr[None], exposures[None], tile=chosen,
                                    overlap=overlap, pad_mode=pad_mode)[0]
            seconds = time.perf_counter() - start
            row = {"model": name, "scene": scene.name, "seconds": seconds}
            row.update(score(pred, hdr))
            row.update(colour_scores(pred, hdr))
            rows.append(row)
            if log:
                log(f"[{i + 1}/{len(scenes)}] {scene.name} {name}: "
                    + "  ".join(f"{METRIC_TITLES[m]} {row[m]:.4f}" for m in IMAGE_METRICS)
                    + f"  ({seconds:.1f}s)")
    return rows


def means(rows, metrics=IMAGE_METRICS):
    """One row per model (first-appearance order): the mean of each metric over scenes."""
    order = []
    grouped = {}
    for row in rows:
        if row["model"] not in grouped:
            order.append(row["model"])
            grouped[row["model"]] = []
        grouped[row["model"]].append(row)
    out = []
    for model in order:
        group = grouped[model]
        mean = {"model": model, "scene": MEAN, "scenes": len(group),
                "seconds": float(np.mean([r["seconds"] for r in group]))}
        for m in metrics:
            mean[m] = float(np.mean([r[m] for r in group]))
        out.append(mean)
    return out


def to_csv(rows, metrics=IMAGE_METRICS):
    """CSV text: one row per (model, scene), then one `mean` row per model."""
    buf = _io.StringIO()
    fields = ["model", "scene", *metrics, "seconds"]
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in list(rows) + means(rows, metrics):
        writer.writerow({k: (f"{row[k]:.6f}" if isinstance(row[k], float) else row[k])
                         for k in fields})
    return buf.getvalue()


def _fmt(value, metric):
    if not math.isfinite(value):
        return str(value)
    decimals = 4 if "ssim" in metric else DECIMALS.get(metric, 2)
    return f"{value:.{decimals}f}"


def markdown_table(rows, metrics=IMAGE_METRICS, titles=None, units=("Scenes", "s/scene")):
    """Markdown table of the per-model means (one row per model or baseline). `metrics`:
    the row keys to show; `titles`: their column titles (default METRIC_TITLES); `units`:
    titles of the count and time columns (video rows time one frame, not a scene)."""
    titles = titles or METRIC_TITLES
    mean_rows = means(rows, metrics)
    header = (f"| Model | {units[0]} | " + " | ".join(titles[m] for m in metrics)
              + f" | {units[1]} |")
    rule = "|---|---:|" + "---:|" * len(metrics) + "---:|"
    lines = [header, rule]
    for r in mean_rows:
        cells = [r["model"], str(r["scenes"])] + [_fmt(r[m], m) for m in metrics]
        cells.append(f"{r['seconds']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_reports(rows, out_dir, metrics=IMAGE_METRICS, titles=None, units=("Scenes", "s/scene")):
    """Writes out_dir/metrics.csv and out_dir/metrics.md atomically; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    csv_path = os.path.join(out_dir, "metrics.csv")
    md_path = os.path.join(out_dir, "metrics.md")
    atomic_write_text(csv_path, to_csv(rows, metrics))
    atomic_write_text(md_path, markdown_table(rows, metrics, titles, units))
    return csv_path, md_path
