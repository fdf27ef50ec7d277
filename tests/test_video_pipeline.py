"""Video training pipeline: windows and crops aligned across frames and ground truth,
augmentation (incl. time reversal) keeps them aligned, determinism, hook, validity."""

import numpy as np
import pytest
import tensorflow as tf

from hdrkeras.data import records as R
from hdrkeras.data.video_pipeline import video_train_dataset
from hdrkeras.data.video_sequence import VideoSequence
from hdrkeras.errors import ConfigError

H = W = 12
N = 12


def _frame(j, t):
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    base = 0.5 if t > 1 else 0.1
    pattern = 0.006 * ((yy * 7 + xx * 3) % 11) / 11  # differs between crop positions
    rgb = np.stack([pattern, 2 * pattern, 3 * pattern], -1)
    return (base + 0.01 * j + rgb).astype(np.float32)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Frame j: brightness 0.1 (t=1) or 0.5 (t=4) + 0.01 j + a pattern; GT = 2 * frame
    (exact after 16-bit quantisation); GT missing on odd frames of sequence "half"."""
    root = tmp_path_factory.mktemp("clips")
    t = [1, 4] * (N // 2)
    seqs = []
    for name, every in (("full", 1), ("half", 2)):
        frames = [np.round(_frame(j, t[j]) * 65535) / 65535 for j in range(N)]
        gt = [2 * f if j % every == 0 else None for j, f in enumerate(frames)]
        seqs.append(VideoSequence(name, frames, t, gt))
    R.write_video_records(seqs, root / "train", clip_length=8, stride=4)
    return root / "train"


def batch(clips, **kw):
    args = dict(num_frames=5, seed=3, deterministic=True)
    args.update(kw)
    return next(iter(video_train_dataset(clips, 16, 8, **args)))


def test_windows_and_crops_are_aligned_without_augmentation(clips):
    b = batch(clips, augment=False, rgb_permute=False, time_reverse=False, require_valid=None)
    assert b["ldr"].shape == (16, 5, 8, 8, 3) and b["exposures"].shape == (16, 5)
    ldr, t = b["ldr"].numpy(), b["exposures"].numpy()
    # long frames are the bright ones, in every position of every window
    np.testing.assert_array_equal(ldr.mean(axis=(2, 3, 4)) > 0.3, t == 4)
    # consecutive frames: +0.01 per frame after removing the exposure's base level
    level = ldr[..., 0].mean(axis=(2, 3)) - np.where(t == 4, 0.5, 0.1)
    np.testing.assert_allclose(np.diff(level, axis=1), 0.01, atol=2e-4)
    # the crop is the same window in every frame: the pattern is identical
    pat = ldr - ldr[:, :, :1, :1]
    np.testing.assert_allclose(pat, np.broadcast_to(pat[:, :1], pat.shape), atol=4e-5)
    assert np.abs(pat[0, 0] - pat[1:, 0]).max() > 1e-3  # crops differ between examples


def test_augmentation_keeps_frames_exposures_and_ground_truth_together(clips):
    b = batch(clips, require_valid="all")
    ldr, t, hdr = b["ldr"].numpy(), b["exposures"].numpy(), b["hdr"].numpy()
    assert b["valid"].numpy().all()
    np.testing.assert_allclose(hdr, 2 * ldr, atol=1e-4)
    np.testing.assert_array_equal(ldr.mean(axis=(2, 3, 4)) > 0.3, t == 4)
    level = ldr.mean(axis=(2, 3, 4)) - np.where(t == 4, 0.5, 0.1)
    slope = np.diff(level, axis=1).mean(axis=1)
    np.testing.assert_allclose(np.abs(slope), 0.01, atol=5e-4)
    assert (slope > 0).any() and (slope < 0).any()  # some windows play backwards
    # the pattern is 1:2:3 in R:G:B; permuted channels put its strongest part elsewhere
    strongest = ldr.std(axis=(1, 2, 3)).argmax(axis=-1)
    assert len(set(strongest.tolist())) > 1
    # rot90/flips: the pattern's orientation differs between examples
    grad_y = np.abs(np.diff(ldr[:, 0, :, :, 2], axis=1)).mean(axis=(1, 2))
    grad_x = np.abs(np.diff(ldr[:, 0, :, :, 2], axis=2)).mean(axis=(1, 2))
    assert len({round(float(v), 4) for v in grad_y / grad_x}) > 1


def test_deterministic_with_a_seed_and_hook(clips):
    def hook(ex):
        return dict(ex, centre_exposure=ex["exposures"][2])

    a = batch(clips, hook=hook)
    b = batch(clips)
    np.testing.assert_array_equal(a["ldr"].numpy(), b["ldr"].numpy())
    np.testing.assert_array_equal(a["centre_exposure"].numpy(), a["exposures"].numpy()[:, 2])
    c = batch(clips, seed=4)
    assert not np.array_equal(a["ldr"].numpy(), c["ldr"].numpy())


def test_centre_validity_filter(clips):
    b = batch(clips, require_valid="centre", time_reverse=False)
    assert b["valid"].numpy()[:, 2].all() and not b["valid"].numpy().all()


def test_bad_arguments(clips, tmp_path):
    with pytest.raises(ConfigError, match="num_frames 9 does not fit the 8-frame clips"):
        video_train_dataset(clips, 2, 8, num_frames=9)
    with pytest.raises(ConfigError, match="patch_size 16 is larger"):
        video_train_dataset(clips, 2, 16, num_frames=5)
    from hdrkeras.data import schema as S
    path = str(tmp_path / "img.tfrecord")
    with tf.io.TFRecordWriter(path) as w:
        w.write(S.encode_example(np.zeros((3, 8, 8, 3), np.float32), [1, 4, 16]))
    with pytest.raises(ConfigError, match="reads video clips"):
        video_train_dataset(path, 2, 8, num_frames=3)
