"""hdrkeras.tiling's automatic tile size: the memory model, the budget read from /proc and
cgroups, whole image when it fits, the largest fitting tile when it does not, the user's
--tile kept. Pure arithmetic on small numbers: nothing large is allocated."""

import numpy as np
import pytest

from hdrkeras import tiling
from hdrkeras.errors import ConfigError
from hdrkeras.predictor import Predictor

GIB = 2 ** 30
ESBN = tiling.MEMORY_MODELS["esbn"]


def _need(model, pixels, batch=1):
    fixed, per_pixel = model
    return fixed + per_pixel * batch * pixels


def test_small_image_runs_whole():
    tile, fits = tiling.choose_tile(600, 900, 3 * GIB, ESBN)
    assert tile is None and fits
    assert _need(ESBN, 600 * 900) <= 3 * GIB


def _fits(h, w, tile, headroom, batch=1):
    return _need(ESBN, tile * tile, batch) + 12 * batch * h * w <= headroom  # + output buffer


def _work(h, w, tile):
    return tiling.num_tiles(h, w, tile, 32) * tile * tile


@pytest.mark.parametrize("h,w,headroom", [(4000, 6000, 3 * GIB), (1000, 1500, 3 * GIB),
                                          (1000, 1500, 1 * GIB), (300, 20000, 2 * GIB)])
def test_large_image_gets_the_fitting_tile_with_least_work(h, w, headroom):
    tile, fits = tiling.choose_tile(h, w, headroom, ESBN)
    assert fits and tile % tiling.TILE_MULTIPLE == 0 and tile >= tiling.MIN_TILE
    assert _fits(h, w, tile, headroom) and tiling.num_tiles(h, w, tile, 32) > 1
    fitting = [t for t in range(tiling.MIN_TILE, max(h, w) + 8, 8) if _fits(h, w, t, headroom)]
    assert _work(h, w, tile) == min(_work(h, w, t) for t in fitting)
    assert _work(h, w, tile) < _work(h, w, fitting[-1]) or tile == fitting[-1]
    tile2, _ = tiling.choose_tile(h, w, headroom, ESBN, batch=2)
    assert _fits(h, w, tile2, headroom, batch=2)


def test_least_work_beats_the_largest_tile():
    """1000x1500 with 3.2 GB: the largest fitting tile (912) needs 2x2 tiles, 3.3 MP of
    work; 6 tiles of 528 do 1.7 MP."""
    largest = max(t for t in range(64, 1508, 8) if _fits(1000, 1500, t, 3.2 * GIB))
    assert tiling.num_tiles(1000, 1500, largest, 32) == 4
    tile, _ = tiling.choose_tile(1000, 1500, 3.2 * GIB, ESBN)
    assert (tile, tiling.num_tiles(1000, 1500, tile, 32)) == (528, 6)
    assert _work(1000, 1500, tile) < 0.51 * _work(1000, 1500, largest)


def test_budget_below_the_smallest_tile_returns_it_flagged():
    assert tiling.choose_tile(200, 300, 0, ESBN) == (tiling.MIN_TILE, False)
    # the floor stays at least twice the overlap, on the size multiple
    tile, fits = tiling.choose_tile(200, 300, 0, ESBN, overlap=48)
    assert (tile, fits) == (96, False)


def test_memory_model_lookup():
    assert tiling.memory_model("esbn") == ESBN
    assert tiling.memory_model("classical_merge")[1] < ESBN[1]
    p = Predictor(lambda x, e: x[:, 0], "run/model.keras", 3, "model", method="classical_merge")
    assert tiling.memory_model(p) == tiling.MEMORY_MODELS["classical_merge"]
    assert tiling.memory_model("no_such_method") == tiling.DEFAULT_MEMORY_MODEL


def test_memory_model_follows_the_winograd_convs(monkeypatch):
    """Where the backbones' convs run as Winograd, their memory model is the Winograd one
    (several times the plain conv's per pixel); ESBN's convs are plain either way."""
    monkeypatch.setenv("HDRKERAS_WINOGRAD", "1")
    assert tiling.memory_model("fshdr") == tiling.WINOGRAD_MEMORY_MODELS["fshdr"]
    assert tiling.memory_model("fshdr")[1] > 3 * tiling.MEMORY_MODELS["fshdr"][1]
    assert tiling.memory_model("esbn") == ESBN
    monkeypatch.setenv("HDRKERAS_WINOGRAD", "0")
    assert tiling.memory_model("fshdr") == tiling.MEMORY_MODELS["fshdr"]


def test_resolve_tile_keeps_the_users_choice():
    assert tiling.resolve_tile(0, 4000, 6000) == (None, "whole image (--tile 0)")
    assert tiling.resolve_tile(None, 4000, 6000)[0] is None
    assert tiling.resolve_tile(256, 10, 10) == (256, "tile 256 (--tile)")
    assert tiling.tool_tile(None) == tiling.AUTO
    assert tiling.tool_tile(0) is None and tiling.tool_tile(96) == 96
    with pytest.raises(ConfigError, match="--tile"):
        tiling.tool_tile(-1)


def test_resolve_tile_auto_uses_budget_and_available_memory(monkeypatch):
    monkeypatch.setattr(tiling, "resident_bytes", lambda: 1 * GIB)
    monkeypatch.setattr(tiling, "available_bytes", lambda: 100 * GIB)
    tile, why = tiling.resolve_tile(tiling.AUTO, 100, 150, "esbn", max_memory_gb=4)
    assert tile is None and why.startswith("whole image (4 GB budget, 1.00 GB in use")
    tile, why = tiling.resolve_tile(tiling.AUTO, 4000, 6000, "esbn", max_memory_gb=4)
    assert tile == tiling.choose_tile(4000, 6000, 3 * GIB, ESBN)[0]
    assert why.startswith(f"tile {tile}, automatic")
    # less available than the budget: the machine's limit wins
    monkeypatch.setattr(tiling, "available_bytes", lambda: GIB // 2)
    small, _ = tiling.resolve_tile(tiling.AUTO, 4000, 6000, "esbn", max_memory_gb=4)
    assert small == tiling.choose_tile(4000, 6000, GIB // 2, ESBN)[0] < tile
    # a budget below what the process holds: the smallest tile, said so
    tile, why = tiling.resolve_tile(tiling.AUTO, 1000, 1000, "esbn", max_memory_gb=0.5)
    assert tile == tiling.MIN_TILE and "exceeds the budget" in why
    with pytest.raises(ConfigError, match="--max_memory_gb"):
        tiling.resolve_tile(tiling.AUTO, 10, 10, "esbn", max_memory_gb=0)


def test_available_bytes_reads_meminfo_and_cgroups(tmp_path, monkeypatch):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  16000000 kB\nMemAvailable:  8388608 kB\n")
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    monkeypatch.setattr(tiling, "PROC_MEMINFO", str(meminfo))
    monkeypatch.setattr(tiling, "CGROUP_ROOT", str(cgroup))
    assert tiling.available_bytes() == 8 * GIB  # no cgroup files: MemAvailable
    (cgroup / "memory.max").write_text("max\n")
    (cgroup / "memory.current").write_text(f"{GIB}\n")
    assert tiling.available_bytes() == 8 * GIB  # no limit
    (cgroup / "memory.max").write_text(f"{2 * GIB}\n")
    assert tiling.available_bytes() == GIB  # cgroup v2: limit - usage
    monkeypatch.setattr(tiling, "PROC_MEMINFO", str(tmp_path / "absent"))
    assert tiling.available_bytes() == GIB
    (cgroup / "memory.max").unlink()
    assert tiling.available_bytes() is None


def test_this_process_memory_is_read():
    rss, peak = tiling.resident_bytes(), tiling.peak_resident_bytes()
    assert 0 < rss <= peak
    assert tiling.available_bytes() > 0
    big = np.ones(64 * 2 ** 20 // 8)  # 64 MB, touched
    assert tiling.resident_bytes() >= rss + 32 * 2 ** 20
    del big
