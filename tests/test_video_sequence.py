"""VideoSequence: exposures normalised, period and levels, the window edge policy, errors."""

import numpy as np
import pytest

from hdrkeras.data.video_sequence import VideoSequence
from hdrkeras.errors import DataError


def seq(exposures, gt=None):
    frames = [np.full((4, 5, 3), i / 10, np.float32) for i in range(len(exposures))]
    return VideoSequence("s", frames, exposures, gt)


def test_exposures_normalised_and_pattern():
    s = seq([2, 8, 32, 2, 8, 32, 2])
    np.testing.assert_allclose(s.exposures, [1, 4, 16, 1, 4, 16, 1])
    assert s.period == 3
    np.testing.assert_allclose(s.levels, [1, 4, 16])
    assert seq([1, 4, 1, 4, 1]).period == 2


@pytest.mark.parametrize("exposures", [[1, 4] * 4, [1, 4, 16] * 3, [4, 1] * 4])
def test_window_keeps_the_exposure_pattern_at_the_edges(exposures):
    s = seq(exposures)
    n, size = len(s), 5
    for centre in range(n):
        idx = s.window(centre, size)
        assert idx[size // 2] == centre
        assert all(0 <= j < n for j in idx)
        # Same exposure at each position as an interior window centred on a frame of
        # the same phase.
        want = [s.exposures[(centre + k) % s.period] for k in range(-(size // 2), size // 2 + 1)]
        np.testing.assert_allclose([s.exposures[j] for j in idx], want)


def test_ground_truth_validity_and_loading():
    gt = [None, np.ones((4, 5, 3), np.float32), None]
    s = seq([1, 4, 1], gt)
    assert s.valid.tolist() == [False, True, False]
    assert s.hdr(0) is None and s.hdr(1).shape == (4, 5, 3)
    assert s.ldr(2).dtype == np.float32


def test_bad_inputs_are_clear():
    with pytest.raises(DataError, match="2 exposures for 3 frames"):
        VideoSequence("s", [np.zeros((2, 2, 3))] * 3, [1, 4])
    with pytest.raises(DataError, match="finite and positive"):
        seq([1, 0, 1])
    with pytest.raises(DataError, match="shorter than the 5-frame window"):
        seq([1, 4, 1]).window(1, 5)
    with pytest.raises(DataError, match="frame /nonexistent/f.png is missing"):
        VideoSequence("s", ["/nonexistent/f.png"], [1]).ldr(0)
    bad = np.ones((4, 5, 3), np.float32)
    bad[0, 0, 0] = np.inf
    with pytest.raises(DataError, match="non-finite"):
        seq([1, 4], [None, bad]).hdr(1)
