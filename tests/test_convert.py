"""`python -m hdrkeras.convert` for the PyTorch networks: an official state dict (the parity
fixture's weights, under DataParallel's `module.` prefix) -> the method's inference model
in one .keras file -> `export`. The .pth path needs torch (an optional extra); the same
state dict as .npz goes through the same code without it."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from conftest import REPO_ROOT, flip_groups, load_fixture
from hdrkeras import convert, export, saving
from hdrkeras.convert.__main__ import convert_method
from hdrkeras.errors import ConfigError, DataError, MissingWeightsError

# network -> (input prefix, output key) of its parity fixture: the transformers at a
# multiple of their window, where the official forward pads nothing.
NETWORKS = {"ahdrnet": ("", "out_hdr"), "fshdr": ("", "out_hdr"),
            "sctnet": ("in2_", "out_hdr_in2"), "hdr_transformer": ("in2_", "out_hdr_in2")}


def _nhwc(x):
    return np.ascontiguousarray(np.transpose(x, (0, 2, 3, 1)))


def _write_npz(tmp_path, name):
    meta, weights, io = load_fixture(name)
    path = tmp_path / f"{name}.npz"
    np.savez(path, **{f"module.{k}": v for k, v in weights.items()})
    return meta, weights, io, path


def _backbone(model):
    nets = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    assert len(nets) == 1, [layer.name for layer in model.layers]
    return nets[0]


def _call(net, frames):
    """Frames in the structure the network was built with (a dict keyed like its inputs,
    or a list)."""
    if isinstance(net.input, dict):
        return net(dict(zip(sorted(net.input), frames)), training=False)
    return net(list(frames), training=False)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_official_state_dict_to_inference_model(name, tmp_path):
    """The .keras holds the method's inference model (named after it) whose network gives
    the official outputs in RGB (the BGR checkpoint's first/last layers permuted)."""
    meta, _, io, npz = _write_npz(tmp_path, name)
    out = tmp_path / "model.keras"
    assert convert_method(name, [str(npz)], str(out), config=meta["config"]) == [str(out)]
    model = saving.load_keras(out)
    assert model.name == name
    prefix, key = NETWORKS[name]
    frames = [flip_groups(_nhwc(io[f"{prefix}x{i}"])) for i in (1, 2, 3)]
    got = np.asarray(_call(_backbone(model), frames))
    np.testing.assert_allclose(got, flip_groups(_nhwc(io[key])), rtol=0,
                               atol=meta["tolerance"]["max_abs"])


def test_converted_model_exports_under_its_method_only(tmp_path):
    meta, _, _, npz = _write_npz(tmp_path, "ahdrnet")
    out = tmp_path / "ahdrnet.keras"
    result = subprocess.run(
        [sys.executable, "-m", "hdrkeras.convert", "--method", "ahdrnet", "--checkpoint",
         str(npz), "--out", str(out), "--config", '{"nDenselayer": 3, "nFeat": 16, '
         '"growthRate": 8}'], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out} (ahdrnet inference model" in result.stdout
    method, model = export.build_model("ahdrnet", str(out))
    path = export.export_saved_model(method.name, model, tmp_path / "served")
    assert saving.read_metadata(path)["method"] == "ahdrnet"
    with pytest.raises(ConfigError, match="holds a 'ahdrnet' model, not a 'fshdr' one; "
                                          "use --method ahdrnet"):
        export.build_model("fshdr", str(out))


def test_checkpoint_of_another_network_is_named(tmp_path):
    _, _, _, npz = _write_npz(tmp_path, "ahdrnet")
    with pytest.raises((ConfigError, DataError), match=f"{npz} \\(as sctnet network\\)"):
        convert_method("sctnet", [str(npz)], str(tmp_path / "x.keras"))
    with pytest.raises(ConfigError, match="unknown role 'fusion'"):
        convert_method("sctnet", [f"fusion={npz}"], str(tmp_path / "x.keras"))
    assert sorted(os.listdir(tmp_path)) == ["ahdrnet.npz"]



def test_pth_without_torch_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    pth = tmp_path / "SCTNet.pth"
    pth.write_bytes(b"\0" * 16)
    with pytest.raises(MissingWeightsError, match="needs torch.*or save the state dict as .npz"):
        convert_method("sctnet", [str(pth)], str(tmp_path / "x.keras"))


def test_pth_checkpoint(tmp_path):
    """A real .pth, wrapped like the official training scripts save it; runs where the
    optional torch extra is installed and is reported skipped elsewhere."""
    torch = pytest.importorskip("torch")
    meta, weights, io, _ = _write_npz(tmp_path, "ahdrnet")
    pth = tmp_path / "ahdrnet.pth"
    torch.save({"state_dict": {f"module.{k}": torch.from_numpy(np.asarray(v))
                               for k, v in weights.items()}}, pth)
    out = tmp_path / "model.keras"
    convert_method("ahdrnet", [str(pth)], str(out), config=meta["config"])
    frames = [flip_groups(_nhwc(io[f"x{i}"])) for i in (1, 2, 3)]
    got = np.asarray(_call(_backbone(saving.load_keras(out)), frames))
    np.testing.assert_allclose(got, flip_groups(_nhwc(io["out_hdr"])), rtol=0,
                               atol=meta["tolerance"]["max_abs"])


def test_corrupt_keras_file_is_not_reported_missing(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError, match="not a readable .keras file") as info:
        saving.load_keras(path)
    assert "not found" not in str(info.value).lower()


def test_converter_registry():
    assert set(NETWORKS) | {"esbn_align", "esbn_fusion", "selfhdr_losses"} <= set(convert.names())
    with pytest.raises(KeyError, match="No checkpoint converter named 'nope'; known: ahdrnet"):
        convert.load_reference("nope", {})
