"""Video evaluation: LAN-HDR's SSIM and scaling protocol, the temporal-stability figure,
per-sequence rows and reports beside the two video baselines."""

import numpy as np
import pytest
from video_clip import moving_clip

from hdrkeras import evaluation, methods
from hdrkeras.data.video_sequence import VideoSequence
from hdrkeras.errors import DataError
from hdrkeras.methods.streaming import WindowModel
from hdrkeras import video_evaluation as ve


def _ssim_brute_force(x, y, data_range, win=7):
    """skimage.structural_similarity's defaults written out window by window."""
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    vals = []
    for ch in range(x.shape[-1]):
        for i in range(x.shape[0] - win + 1):
            for j in range(x.shape[1] - win + 1):
                a = x[i:i + win, j:j + win, ch].ravel().astype(np.float64)
                b = y[i:i + win, j:j + win, ch].ravel().astype(np.float64)
                cov = np.cov(a, b, ddof=1)
                vals.append(((2 * a.mean() * b.mean() + c1) * (2 * cov[0, 1] + c2))
                            / ((a.mean() ** 2 + b.mean() ** 2 + c1) * (cov[0, 0] + cov[1, 1] + c2)))
    return float(np.mean(vals))


def test_lanhdr_ssim_matches_the_window_by_window_definition():
    rng = np.random.default_rng(0)
    x = rng.random((11, 13, 3))
    y = np.clip(x + 0.1 * rng.standard_normal(x.shape), 0, 1)
    r = x.max() - x.min()
    assert ve.ssim_uniform(y, x, r) == pytest.approx(_ssim_brute_force(x, y, r), rel=1e-10)
    assert ve.ssim_uniform(x, x, r) == pytest.approx(1.0)


def test_lanhdr_protocol_scales_by_the_ground_truth_peak():
    rng = np.random.default_rng(1)
    gt = (3.0 * rng.random((16, 16, 3))).astype(np.float32)
    pred = (gt * (1 + 0.05 * rng.standard_normal(gt.shape))).astype(np.float32)
    a, b = ve.lanhdr_scores(pred, gt), ve.lanhdr_scores(2 * pred, 2 * gt)
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-6)
    # Equal to ours on the divided, clamped images.
    ours = evaluation.score(np.clip(pred / gt.max(), 0, 1), gt / gt.max())
    assert a["lan_psnr_t"] == pytest.approx(ours["psnr_mu"], abs=1e-3)
    assert a["lan_psnr_l"] == pytest.approx(ours["psnr_l"], abs=1e-3)
    # Below 1 nothing is scaled: PSNR-L is ours.
    small = gt / 4
    assert ve.lanhdr_scores(pred / 4, small)["lan_psnr_l"] == pytest.approx(
        evaluation.score(np.clip(pred / 4, 0, 1), small)["psnr_l"], abs=1e-3)


def _rows_for(monkeypatch, outputs_fn, seq):
    """Row of a fake model whose output for frame c is outputs_fn(c)."""
    import hdrkeras.video_inference as vi

    monkeypatch.setattr(vi, "outputs", lambda m, s, centres, tile, overlap: (
        (c, outputs_fn(c)) for c in centres))
    return ve.evaluate_sequence(WindowModel(lambda ldr, t: None, 1, name="fake"), seq)[0]


def test_temporal_stability_penalises_flicker_not_static_error(monkeypatch):
    seq = moving_clip(6, h=40, w=48)
    perfect = _rows_for(monkeypatch, seq.hdr, seq)
    assert perfect["tpsnr_mu"] == float("inf")
    biased = _rows_for(monkeypatch, lambda c: seq.hdr(c) * 1.3, seq)  # wrong, but stable
    flicker = _rows_for(monkeypatch, lambda c: seq.hdr(c) * (1.3 if c % 2 else 1.0), seq)
    assert biased["psnr_mu"] < 40 and flicker["psnr_mu"] > biased["psnr_mu"]
    assert biased["tpsnr_mu"] > 50
    assert flicker["tpsnr_mu"] < biased["tpsnr_mu"] - 15


def test_evaluate_rows_and_reports_beside_the_baselines(tmp_path):
    seqs = [moving_clip(5, name="a"), moving_clip(4, seed=3, name="b")]
    models = [methods.get(n).streaming_model() for n in ve.BASELINES]
    rows = ve.evaluate(models, seqs, lanhdr=True, log=None)
    assert [(r["model"], r["scene"]) for r in rows] == [
        ("video_reference_only", "a"), ("video_classical_merge", "a"),
        ("video_reference_only", "b"), ("video_classical_merge", "b")]
    for r in rows:
        assert set(ve.metric_names(True)) <= set(r)
    merge_a, ref_a = rows[1], rows[0]
    assert merge_a["psnr_l"] > ref_a["psnr_l"] + 5  # clipped long frames filled
    assert merge_a["tpsnr_mu"] > ref_a["tpsnr_mu"]  # and no exposure flicker
    csv_path, md_path = ve.write_reports(rows, str(tmp_path), lanhdr=True)
    csv = open(csv_path).read().splitlines()
    assert csv[0].split(",")[:3] == ["model", "scene", "psnr_mu"] and "tpsnr_mu" in csv[0]
    assert len(csv) == 1 + 4 + 2  # header, per-sequence rows, one mean row per model
    md = open(md_path).read()
    assert "tPSNR-T" in md and "SSIM-T (LAN-HDR)" in md and "| video_classical_merge | 2 |" in md


def test_sequence_without_ground_truth_is_refused():
    seq = VideoSequence("nogt", [np.zeros((16, 16, 3), np.float32)] * 3, [1, 4, 1])
    with pytest.raises(DataError, match="sequence nogt has no ground truth"):
        ve.evaluate_sequence(methods.get("video_reference_only").streaming_model(), seq)
