"""The one registry mechanism, and what methods declare through it: options, inputs."""

import dataclasses

import pytest

from hdrkeras import methods
from hdrkeras.errors import ConfigError
from hdrkeras.methods.backbones import BACKBONES, get_backbone
from hdrkeras.methods.base import InputSpec, Method
from hdrkeras.registry import Registry, UnknownNameError


def test_registry_rejects_duplicates_and_names_the_known_entries():
    reg = Registry("widget")
    reg.add("b", 2)
    reg.add("a", 1)
    assert reg.get("a") == 1 and reg.names() == ["a", "b"] and "b" in reg and len(reg) == 2
    with pytest.raises(ValueError, match="widget 'a' is registered twice"):
        reg.add("a", 3)
    with pytest.raises(UnknownNameError) as info:
        reg.get("c")
    # A ConfigError (one line on the command line) and a KeyError, with an unquoted message.
    assert isinstance(info.value, ConfigError) and isinstance(info.value, KeyError)
    assert str(info.value) == "No widget named 'c'; known: a, b"


def test_methods_and_backbones_are_registered():
    assert {"esbn", "sctnet", "selfhdr", "ahdrnet", "fshdr", "hdr_transformer",
            "reference_only", "classical_merge"} == {
        n for n in methods.names() if methods.get(n).kind == "image"}
    assert {"video_reference_only", "video_classical_merge", "lanhdr", "dealthdr"} == {
        n for n in methods.names() if methods.get(n).kind == "video"}
    assert BACKBONES.names() == ["ahdrnet", "fshdr", "hdr_transformer", "sctnet"]
    with pytest.raises(ConfigError, match="No backbone named 'unet'; known: ahdrnet"):
        get_backbone("unet")


@pytest.mark.parametrize("method,option", [
    ("esbn", "perceptual_weight"), ("esbn", "vgg_weights"), ("esbn", "backbone"),
    ("sctnet", "backbone"), ("ahdrnet", "perceptual_weight"), ("fshdr", "vgg_weights"),
    ("classical_merge", "backbone")])
def test_options_a_method_does_not_use_are_rejected(method, option):
    with pytest.raises(ConfigError, match=f"--{option} is not an option of method '{method}'"):
        methods.get(method).check_options({option: "x"})


def test_options_a_method_uses_are_parsed():
    sct = methods.get("sctnet").parse_options({"perceptual_weight": 0.0, "backbone": None})
    assert (sct.perceptual_weight, sct.vgg_weights) == (0.0, None)
    self_hdr = methods.get("selfhdr").parse_options({"backbone": "fshdr"})
    assert self_hdr.backbone_name == "fshdr"
    assert methods.get("selfhdr").parse_options({}).backbone_name == "ahdrnet"
    with pytest.raises(ConfigError, match="No backbone named 'unet'"):
        methods.get("selfhdr").check_options({"backbone": "unet"})
    with pytest.raises(ConfigError, match="--perceptual_weight must be a finite number >= 0"):
        methods.get("hdr_transformer").check_options({"perceptual_weight": -1.0})


def test_a_method_declares_kind_frames_and_extra_inputs():
    class Window(Method):
        name = "window_test"
        kind = "video"
        num_frames = 5
        extra_inputs = (InputSpec("sensitivity", (5,), "float32 [B, T] sensor gain"),)

    specs = Window().input_specs()
    assert [(s.name, s.shape) for s in specs] == [
        ("ldr", (5, None, None, 3)), ("exposures", (5,)), ("sensitivity", (5,))]
    assert "time order" in specs[0].doc
    image = methods.get("esbn").input_specs()
    assert image[0].shape == (3, None, None, 3) and "increasing exposure" in image[0].doc
    assert dataclasses.is_dataclass(methods.get("esbn").Options)
