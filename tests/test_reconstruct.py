"""reconstruct/reconstruct.py and reconstruct/evaluate.py on scenes the tests write:
Kalantari-layout folders (16-bit .tif + exposure.txt + HDRImg.hdr) and EXIF-tagged JPEG
brackets; atomic outputs; the baselines' rows in the evaluation report."""

import csv
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from hdrkeras import evaluation, export, inference, io, methods, tiling
from hdrkeras.data import bracket
from hdrkeras.errors import ConfigError, DataError
from hdrkeras.ops import response

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPOSURES = (1.0, 4.0, 16.0)


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _script(name, *args, cwd):
    return subprocess.run([sys.executable, os.path.join(REPO, "reconstruct", name), *args],
                          capture_output=True, text=True, env=_env(), cwd=str(cwd), timeout=300)


def synthetic_radiance(rng, h, w):
    """Linear HDR [h,w,3] from 0.003 to ~0.9: the right ~quarter saturates the reference
    frame (t=4 clips above 0.25) but not the short one."""
    x = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :, None]
    y = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    base = 0.003 * 300.0 ** x * (0.8 + 0.2 * y)
    tint = np.array([1.0, 0.85, 0.7], np.float32)
    texture = 1.0 + 0.1 * rng.uniform(-1, 1, size=(h, w, 1)).astype(np.float32)
    return (base * tint * texture).astype(np.float32)


def write_scene(folder, rng, h=24, w=40, exposures=EXPOSURES):
    """A Kalantari-layout scene: frames named in exposure order, EVs, ground truth."""
    os.makedirs(folder, exist_ok=True)
    hdr = synthetic_radiance(rng, h, w)
    for i, t in enumerate(exposures):
        io.write_ldr(os.path.join(folder, f"2620{i}.tif"), response.reexpose(hdr, t), bits=16)
    with open(os.path.join(folder, "exposure.txt"), "w") as f:
        f.write("".join(f"{np.log2(t):g}\n" for t in exposures))
    io.write_hdr(os.path.join(folder, "HDRImg.hdr"), hdr)
    return hdr


def write_exif_jpeg(path, ldr, exposure_time, f_number=4.0, iso=100):
    exif = Image.Exif()
    sub = exif.get_ifd(0x8769)
    sub[0x829A] = exposure_time
    sub[0x829D] = f_number
    sub[0x8827] = iso
    Image.fromarray(np.round(np.clip(ldr, 0, 1) * 255).astype(np.uint8)).save(
        path, quality=95, exif=exif.tobytes())


def _merge(ldr, exposures):
    return inference.from_method("classical_merge")(ldr[None], np.asarray(exposures)[None])[0]


def _load_folder(folder):
    from hdrkeras.data.bracket import bracket_scene

    return bracket_scene(str(folder)).load()


def _no_temporaries(folder):
    return [f for f in os.listdir(folder) if ".tmp" in f]


# --- reconstruct -----------------------------------------------------------------------

def test_reconstruct_kalantari_scene_folder_tiled(tmp_path, rng):
    gt = write_scene(tmp_path / "scene", rng)
    out = tmp_path / "out" / "scene.exr"
    proc = _script("reconstruct.py", "--method", "classical_merge", "--input",
                   str(tmp_path / "scene"), "--out", str(out), "--tile", "16", "--overlap", "4",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    n = tiling.num_tiles(24, 40, 16, 4)
    assert n == 6 and f"tile {n}/{n}" in proc.stdout and "wrote" in proc.stdout
    assert "tile 16 (--tile)" in proc.stdout  # the user's tile, not the automatic one
    hdr = io.read_hdr(out)  # EXR float32: lossless
    ldr, exposures, _ = _load_folder(tmp_path / "scene")
    np.testing.assert_allclose(hdr, _merge(ldr, exposures), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hdr, gt, rtol=0.02, atol=1e-4)  # 16-bit frames: near exact
    preview = io.read_ldr(tmp_path / "out" / "scene_preview.png")
    assert preview.shape == gt.shape
    assert sorted(os.listdir(tmp_path / "out")) == ["scene.exr", "scene_preview.png"]


def test_reconstruct_exif_jpegs_with_exported_model(tmp_path, rng):
    radiance = synthetic_radiance(rng, 20, 28)
    # file names deliberately not in exposure order: long, short, middle
    times = {"a.jpg": 1 / 25, "b.jpg": 1 / 400, "c.jpg": 1 / 100}
    for name, t in times.items():
        write_exif_jpeg(tmp_path / name, response.reexpose(radiance, t * 400), t)
    model_dir = tmp_path / "exports"
    export.export_saved_model("classical_merge",
                              methods.get("classical_merge").build_inference_model(), model_dir)
    out = tmp_path / "jpeg.hdr"
    files = ",".join(str(tmp_path / n) for n in times)
    proc = _script("reconstruct.py", "--model", str(model_dir), "--input", files,
                   "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "relative exposures 1, 4, 16" in proc.stdout
    assert "whole image (4 GB budget" in proc.stdout  # the default: fits, no tiling
    frames = np.stack([io.read_ldr(tmp_path / n) for n in ("b.jpg", "c.jpg", "a.jpg")])
    expected = _merge(frames, EXPOSURES)
    np.testing.assert_allclose(io.read_hdr(out), expected, rtol=0.02, atol=1e-5)  # RGBE
    assert (tmp_path / "jpeg_preview.png").is_file()


def test_reconstruct_user_error_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "o" / "x.hdr"
    proc = _script("reconstruct.py", "--method", "classical_merge", "--input",
                   str(tmp_path / "missing"), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("error:") and "missing" in lines[-1]
    assert not any("Traceback" in ln for ln in lines)
    assert not out.exists() and not (tmp_path / "o" / "x_preview.png").exists()


def test_input_scene_sources(tmp_path, rng):
    write_scene(tmp_path / "k", rng, h=6, w=8)
    scene = bracket.input_scene(str(tmp_path / "k"))
    assert [os.path.basename(p) for p in scene.frame_paths] == ["26200.tif", "26201.tif",
                                                                "26202.tif"]
    np.testing.assert_allclose(scene.load_exposures(), EXPOSURES)
    # explicit exposures, in file-name order, reorder the frames
    scene = bracket.input_scene(str(tmp_path / "k"), exposures=[8, 2, 4])
    assert [os.path.basename(p) for p in scene.frame_paths] == ["26201.tif", "26202.tif",
                                                                "26200.tif"]
    np.testing.assert_allclose(scene.load_exposures(), [1, 2, 4])
    scene = bracket.input_scene(str(tmp_path / "k" / "*.tif"), exposures=[1, 2, 3])
    assert len(scene.frame_paths) == 3
    with pytest.raises(DataError, match="2 exposures given for 3 images"):
        bracket.input_scene(str(tmp_path / "k"), exposures=[1, 2])
    with pytest.raises(DataError, match="model takes 2 frames, found 3"):
        bracket.input_scene(str(tmp_path / "k" / "*.tif"), exposures=[1, 2, 3], num_frames=2)
    with pytest.raises(DataError, match="same exposure"):
        bracket.input_scene(str(tmp_path / "k"), exposures=[1, 1, 2])
    with pytest.raises(DataError, match="no files match"):
        bracket.input_scene(str(tmp_path / "*.png"))
    with pytest.raises(ConfigError, match=r"\.hdr or \.exr"):
        inference.check_output_path(tmp_path / "x.png")


def test_interrupted_write_leaves_old_output_and_no_partial_files(tmp_path, rng, monkeypatch):
    out = tmp_path / "x.hdr"
    old = synthetic_radiance(rng, 5, 7)
    inference.write_outputs(old, out)
    old_bytes = out.read_bytes()
    old_png = (tmp_path / "x_preview.png").read_bytes()

    def crash(path, img, bits=8):
        with open(path, "wb") as f:
            f.write(b"\x89PNG half")  # a partial file at the temporary name
        raise KeyboardInterrupt("killed while writing the preview")

    monkeypatch.setattr(io, "write_ldr", crash)
    with pytest.raises(KeyboardInterrupt):
        inference.write_outputs(old * 2, out)
    assert out.read_bytes() == old_bytes
    assert (tmp_path / "x_preview.png").read_bytes() == old_png
    assert _no_temporaries(tmp_path) == []
    with pytest.raises(KeyboardInterrupt):
        inference.write_outputs(old, tmp_path / "new.exr")
    assert sorted(os.listdir(tmp_path)) == ["x.hdr", "x_preview.png"]


# --- evaluate --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("kalantari")
    rng = np.random.default_rng(7)
    write_scene(root / "Test" / "001", rng, h=24, w=40)
    write_scene(root / "Test" / "PAPER" / "002", rng, h=20, w=36)
    write_scene(root / "Training" / "100", rng, h=8, w=8)
    return root


def test_evaluate_cli_writes_csv_and_markdown_with_baselines(dataset, tmp_path):
    model_dir = tmp_path / "exports"
    export.export_saved_model("classical_merge",
                              methods.get("classical_merge").build_inference_model(), model_dir)
    proc = _script("evaluate.py", "--model", str(model_dir), "--data", str(dataset),
                   "--out", str(tmp_path / "eval"), "--tile", "16", "--overlap", "4",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(tmp_path / "eval" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["model", "scene", *evaluation.IMAGE_METRICS, "seconds"]
    # the export is named after its method; the baseline of the same name gets "#2"
    models = ["classical_merge", "reference_only", "classical_merge#2"]
    assert [(r["model"], r["scene"]) for r in rows] == (
        [(m, "001") for m in models] + [(m, "PAPER/002") for m in models]
        + [(m, "mean") for m in models])
    by = {(r["model"], r["scene"]): r for r in rows}
    for scene in ("001", "PAPER/002", "mean"):
        for m in evaluation.IMAGE_METRICS:  # the exported model is the merge baseline
            assert float(by[("classical_merge", scene)][m]) == pytest.approx(
                float(by[("classical_merge#2", scene)][m]), rel=1e-4, abs=1e-4)
        # the reference saturates over ~a quarter of the image; merging recovers it
        assert (float(by[("classical_merge#2", scene)]["psnr_mu"])
                > float(by[("reference_only", scene)]["psnr_mu"]) + 10)
    mean_psnr = np.mean([float(by[("reference_only", s)]["psnr_l"]) for s in ("001", "PAPER/002")])
    assert float(by[("reference_only", "mean")]["psnr_l"]) == pytest.approx(mean_psnr, abs=1e-5)
    md = (tmp_path / "eval" / "metrics.md").read_text()
    assert md.splitlines()[0].startswith("| Model | Scenes | PSNR-μ | PSNR-l | SSIM-μ")
    assert len(md.strip().splitlines()) == 2 + 3
    assert "| reference_only | 2 |" in md and md in proc.stdout
    assert _no_temporaries(tmp_path / "eval") == []


def test_merge_beats_reference_in_saturated_regions(dataset):
    from hdrkeras import metrics
    from hdrkeras.data.kalantari import list_scenes

    scene = list_scenes(dataset, "test")[0]
    ldr, exposures, gt = scene.load()
    saturated = np.any(ldr[1] > 0.99, axis=-1)  # reference frame clipped
    assert 0.15 < saturated.mean() < 0.5, saturated.mean()
    cols = np.where(saturated.all(axis=0))[0]  # a block of saturated columns
    block = np.s_[:, cols[0]:cols[-1] + 1]
    scores = {}
    for name in evaluation.BASELINES:
        pred = inference.from_method(name)(ldr[None], exposures[None])[0]
        scores[name] = float(metrics.psnr_mu(pred[block][None], gt[block][None])[0])
    assert scores["classical_merge"] > scores["reference_only"] + 15, scores


def test_evaluation_reports_and_errors(tmp_path):
    rows = [{"model": "a", "scene": "s1", "seconds": 1.0,
             **{m: 1.0 for m in evaluation.IMAGE_METRICS}},
            {"model": "a", "scene": "s2", "seconds": 3.0,
             **{m: 3.0 for m in evaluation.IMAGE_METRICS}}]
    [mean] = evaluation.means(rows)
    assert mean["psnr_mu"] == 2.0 and mean["scenes"] == 2 and mean["seconds"] == 2.0
    csv_path, md_path = evaluation.write_reports(rows, tmp_path / "r")
    assert open(csv_path).read().splitlines()[-1].startswith("a,mean,2.000000")
    md = open(md_path).read()
    assert md.splitlines()[0].endswith("| PU21-PSNR | Saturation | Sat./GT | s/scene |")
    assert "| a | 2 | 2.00 | 2.00 | 2.0000 | 2.0000 | 2.00 | 2.000 | 2.00 | 2.00 |" in md
    with pytest.raises(ConfigError, match="nothing to evaluate"):
        evaluation.evaluate([], [object()])


def test_colour_scores_measure_what_survives_of_the_ground_truths_colour():
    rng = np.random.default_rng(3)
    gt = rng.uniform(0.0, 1.0, (16, 16, 3)).astype(np.float32)
    grey = np.repeat(gt.mean(-1, keepdims=True), 3, -1)
    half = 0.5 * gt + 0.5 * grey                      # colour differences halved
    assert evaluation.colour_scores(gt, gt)["saturation_ratio"] == pytest.approx(1.0)
    assert evaluation.colour_scores(half, gt)["saturation_ratio"] == pytest.approx(0.5, rel=1e-5)
    scores = evaluation.colour_scores(grey[None], gt[None])  # batch axis accepted
    assert scores["saturation"] == pytest.approx(0.0, abs=1e-7)
    assert scores["saturation_ratio"] == pytest.approx(0.0, abs=1e-6)
    assert math.isnan(evaluation.colour_scores(gt, grey)["saturation_ratio"])


def _tiny_esbn(rng):
    """ESBN's inference graph with small nets and trained-like weights (kernels at He
    scale, batch-norm statistics away from identity), so each output pixel depends on its
    neighbourhood as a trained model's does."""
    from hdrkeras.methods.esbn import build_esbn_inference_model
    from hdrkeras.models.esbn import ESBNAlign, ESBNFusion

    model = build_esbn_inference_model(
        ESBNAlign(name="align_low", filters=8, num_res_blocks=1),
        ESBNAlign(name="align_high", filters=8, num_res_blocks=1),
        ESBNFusion(filters=8, growth_rate=4, num_dense_layers=2))
    for v in model.weights:
        shape = tuple(v.shape)
        if v.path.endswith("kernel"):
            v.assign(rng.normal(0, np.sqrt(1.0 / np.prod(shape[:-1])), shape))
        elif v.path.endswith("moving_mean"):
            v.assign(rng.normal(0, 0.1, shape))
        elif v.path.endswith("moving_variance"):
            v.assign(rng.uniform(0.5, 2.0, shape))
    return model


def test_reconstruct_tiles_automatically_under_a_tiny_budget(tmp_path, rng):
    """A budget far below what the process holds: the tool picks the smallest tile itself,
    and the blended tiles match the whole-image ESBN output up to seam effects."""
    from hdrkeras import metrics, saving

    write_scene(tmp_path / "scene", rng, h=80, w=112)
    model_path = tmp_path / "esbn.keras"
    saving.save_keras(_tiny_esbn(rng), model_path)
    out = tmp_path / "tiled.exr"
    proc = _script("reconstruct.py", "--model", str(model_path), "--input",
                   str(tmp_path / "scene"), "--out", str(out), "--overlap", "16",
                   "--max_memory_gb", "0.001", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"tile {tiling.MIN_TILE}, automatic (0.001 GB budget" in proc.stdout
    n = tiling.num_tiles(80, 112, tiling.MIN_TILE, 16)
    assert n == 4 and f"tile {n}/{n}" in proc.stdout
    tiled = io.read_hdr(out)
    ldr, exposures, _ = _load_folder(tmp_path / "scene")
    whole = inference.load_model(str(model_path))(ldr[None], exposures[None])[0]
    assert tiled.shape == whole.shape
    # ESBN's batch norm runs in inference mode: a pixel's output depends only on its
    # neighbourhood, so tiles differ from the whole image only through the context they
    # cut off, which the blending hides (measured: max 0.008, mean 1.2e-4, 64.6 dB)
    err = np.abs(tiled - whole)
    assert err.max() < 0.03 and err.mean() < 1e-3
    assert float(np.ravel(metrics.psnr_mu(tiled[None], whole[None]))[0]) > 50.0
