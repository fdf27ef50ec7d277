"""Losses: SelfHDR stage-loss parity, the (pred, target, weight) contract, VGG loading."""

import json
import os

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.src.legacy.saving import legacy_h5_format

from hdrkeras import convert, losses, vgg
from hdrkeras.errors import ConfigError, MissingWeightsError

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "parity", "selfhdr_losses")


def load_fixture(path):
    if not os.path.isfile(os.path.join(path, "meta.json")):
        pytest.fail(f"fixture missing: {path} (copy it from ../shared/parity/)")
    with open(os.path.join(path, "meta.json")) as f:
        meta = json.load(f)
    return meta, dict(np.load(os.path.join(path, "io.npz")))


def mu_np(x, mu=5000.0):
    return np.log(1 + mu * x.astype(np.float64)) / np.log(1 + mu)


def images(seed, shape=(2, 16, 16, 3)):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


# --- parity ---

def test_selfhdr_losses_parity():
    meta, io = load_fixture(FIXTURE)
    out = convert.parity_forward("selfhdr_losses", {}, meta["config"], io)
    expected = {k for k in io if k.startswith("out_")}
    assert set(out) == expected
    for key in expected:
        assert out[key].shape == io[key].shape, key
        if "mask" in key:
            np.testing.assert_array_equal(out[key], io[key], err_msg=key)
        else:
            np.testing.assert_allclose(out[key], io[key], rtol=0,
                                       atol=meta["tolerance"]["max_abs"], err_msg=key)


# --- the (pred, target, weight) contract ---

def test_mu_law_l1_matches_formula_and_weight_semantics():
    pred, target = images(0), images(1)
    mask = (images(2, (2, 16, 16, 1)) > 0.5).astype(np.float32)
    want = np.mean(np.abs(mu_np(pred) - mu_np(target)))
    np.testing.assert_allclose(float(losses.MuLawL1()(pred, target)), want, rtol=1e-5)
    # The mask multiplies both sides and the mean runs over ALL elements.
    want_masked = np.mean(np.abs(mu_np(pred) * mask - mu_np(target) * mask))
    np.testing.assert_allclose(float(losses.MuLawL1()(pred, target, mask)), want_masked, rtol=1e-5)
    np.testing.assert_allclose(float(losses.MuLawL1(loss_weight=3.0, reduction="sum")(pred, target)),
                               3 * np.sum(np.abs(mu_np(pred) - mu_np(target))), rtol=1e-5)
    assert losses.MuLawL1(reduction="none")(pred, target).shape == pred.shape
    with pytest.raises(ConfigError, match="'avg'"):
        losses.MuLawL1(reduction="avg")


def test_stage_losses_are_differentiable_and_masks_are_constant():
    pred = tf.Variable(images(0))
    ref = np.concatenate([images(1) ** 2.2 / 4, images(1)], -1)
    with tf.GradientTape() as tape:
        total = losses.SelfHDRStage1Loss()(pred, images(3), ref)
    grad = tape.gradient(total, pred)
    assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0
    stage2 = losses.SelfHDRStage2Loss(vgg_weight=0.0)  # no VGG file needed
    terms = stage2.terms(images(0), images(1), images(1))
    assert float(terms["stru"]) == 0.0 and float(terms["label_mask"].numpy().min()) == 1.0


# --- VGG: local weights only ---

def _save_legacy_h5(model, path):
    """Writes weights in the legacy Keras HDF5 layout keras.applications files use."""
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


@pytest.fixture(scope="module")
def random_vgg19(tmp_path_factory):
    """A randomly initialised VGG19 saved under the standard keras.applications file name."""
    keras.utils.set_random_seed(0)
    model = keras.applications.VGG19(include_top=False, weights=None)
    path = str(tmp_path_factory.mktemp("vgg") / vgg.WEIGHT_FILES["vgg19"])
    _save_legacy_h5(model, path)
    return model, path


def test_missing_weights_error_names_file_and_flag(tmp_path, monkeypatch):
    absent = tmp_path / "nowhere" / "vgg19.h5"
    with pytest.raises(MissingWeightsError, match=r"nowhere/vgg19\.h5.*--vgg_weights"):
        losses.SelfHDRVGGLoss(weights_path=str(absent))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(MissingWeightsError, match="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        losses.SCTNetLoss(alpha=0.01)
    # A zero weight never needs the file.
    assert float(losses.SCTNetLoss(alpha=0.0)(images(0), images(1))) == pytest.approx(
        float(losses.MuLawL1()(images(0), images(1))))
    assert float(losses.SelfHDRVGGLoss(weights_path=str(absent), loss_weight=0)(images(0), images(1))) == 0


def _caffe(x):
    return x[..., ::-1] * 255.0 - np.array(vgg.CAFFE_MEAN_BGR, np.float32)


def test_vgg_features_load_local_h5_and_cache(random_vgg19, tmp_path, monkeypatch):
    model, path = random_vgg19
    x = images(4, (1, 24, 24, 3))
    # Independent check of relu1_1 from the raw HDF5 arrays.
    with h5py.File(path) as f:
        k = f["block1_conv1"]["block1_conv1"]
        kernel, bias = np.asarray(k["kernel"]), np.asarray(k["bias"])
    feats = vgg.VGGFeatures("vgg19", ["relu1_1", "relu5_2"], path)
    want = tf.nn.relu(tf.nn.conv2d(_caffe(x), kernel, 1, "SAME") + bias)
    np.testing.assert_allclose(feats(x)[0], want, rtol=1e-4, atol=1e-3)
    assert feats(x)[1].shape == (1, 1, 1, 512)
    # Same file found through the Keras cache directory, and through a directory argument.
    models_dir = tmp_path / "keras_home" / "models"
    models_dir.mkdir(parents=True)
    os.symlink(path, models_dir / vgg.WEIGHT_FILES["vgg19"])
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    assert vgg.resolve_weights("vgg19") == str(models_dir / vgg.WEIGHT_FILES["vgg19"])
    assert vgg.resolve_weights("vgg19", os.path.dirname(path)) == path


def test_torchvision_npz_weights_match_keras_layout(random_vgg19, tmp_path):
    model, path = random_vgg19
    sd = {}
    torch_idx = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    for idx, layer in zip(torch_idx, convs):
        sd[f"features.{idx}.weight"] = np.transpose(layer.kernel.numpy(), (3, 2, 0, 1))
        sd[f"features.{idx}.bias"] = layer.bias.numpy()
    npz = str(tmp_path / "vgg19_torchvision.npz")
    np.savez(npz, **sd)
    a = vgg.VGGFeatures("vgg19", ["relu3_2", "relu5_2"], npz)
    b = vgg.VGGFeatures("vgg19", ["relu3_2", "relu5_2"], path)
    assert (a.preprocessing, b.preprocessing) == ("torch", "caffe")
    x = images(5, (1, 32, 32, 3))
    for fa, fb in zip(a.model(a.preprocess(x)), b.model(a.preprocess(x))):
        np.testing.assert_allclose(fa, fb, rtol=1e-4, atol=1e-4)


def test_selfhdr_vgg_loss_weights_layers(random_vgg19):
    _, path = random_vgg19
    loss = losses.SelfHDRVGGLoss(weights_path=path, loss_weight=2.0)
    pred, target = images(6, (2, 32, 32, 3)), images(7, (2, 32, 32, 3))
    assert float(loss(pred, pred)) == 0.0
    fp = loss.features(mu_np(pred).astype(np.float32))
    ft = loss.features(mu_np(target).astype(np.float32))
    d = [np.mean(np.abs(np.asarray(a) - np.asarray(b))) for a, b in zip(fp, ft)]
    want = 2.0 * (d[0] * 1 + d[1] * 1 + d[2] * 2) / 4
    assert want > 0
    np.testing.assert_allclose(float(loss(pred, target)), want, rtol=1e-4)
    # Stage 2 total = colour + VGG structure term.
    stage2 = losses.SelfHDRStage2Loss(vgg_weights_path=path)
    terms = stage2.terms(pred, target, target)
    np.testing.assert_allclose(float(terms["total"]), float(terms["color"]) + float(terms["stru"]), rtol=1e-6)
    np.testing.assert_allclose(float(terms["stru"]), want / 2.0, rtol=1e-4)


def test_sctnet_perceptual_layers_and_alpha(tmp_path):
    keras.utils.set_random_seed(1)
    model = keras.applications.VGG16(include_top=False, weights=None)
    path = str(tmp_path / vgg.WEIGHT_FILES["vgg16"])
    _save_legacy_h5(model, path)
    loss = losses.SCTNetLoss(alpha=0.01, weights_path=path)
    assert loss.perceptual.features.layers == ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
    pred, target = images(8, (1, 32, 32, 3)), images(9, (1, 32, 32, 3))
    feats = loss.perceptual.features
    fp, ft = feats(mu_np(pred).astype(np.float32)), feats(mu_np(target).astype(np.float32))
    perc = sum(np.mean(np.abs(np.asarray(a) - np.asarray(b))) for a, b in zip(fp, ft))
    want = np.mean(np.abs(mu_np(pred) - mu_np(target))) + 0.01 * perc
    np.testing.assert_allclose(float(loss(pred, target)), want, rtol=1e-4)
