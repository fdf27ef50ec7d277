"""Same-session comparison tools: host matmul rate, official PyTorch timing from a local
checkout (loading, parameter check, error paths) and the session report."""

import contextlib
import json
import os
import subprocess
import sys
import types

import pytest

from conftest import hide_modules
from hdrkeras import cpu_isa
from hdrkeras.bench import host, official, report
from hdrkeras.errors import ConfigError, DataError, MissingWeightsError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Stands in for torch where only `nn.Module` / `nn.init` are touched (the timm stand-in).
FAKE_TORCH = types.SimpleNamespace(nn=types.SimpleNamespace(
    Module=object, init=types.SimpleNamespace(trunc_normal_=lambda t, *a: t)))


def _checkout(tmp_path, source, name="ahdrnet.py"):
    (tmp_path / "models").mkdir(exist_ok=True)
    (tmp_path / "models" / name).write_text(source)
    return str(tmp_path)


def test_host_matmul_rate():
    assert host.matmul_gflops(128, runs=2) > 0.01
    with pytest.raises(ConfigError, match="--size"):
        host.matmul_gflops(0)


def test_host_isa_from_cpu_flags_capped_by_onednn_max_cpu_isa(tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU 9000\nflags\t\t: sse4_1 avx "
                       "avx2 fma avx512f avx512bw avx512vl avx512dq\n\nprocessor\t: 1\n")
    name, flags = cpu_isa.cpu_info(str(cpuinfo))
    assert name == "Some CPU 9000"
    assert cpu_isa.onednn_isa(flags) == "avx512_core"
    assert cpu_isa.onednn_isa(flags, "AVX2") == cpu_isa.onednn_isa(flags, "avx2_vnni") == "avx2"
    assert cpu_isa.onednn_isa(flags, "ALL") == "avx512_core"
    assert cpu_isa.onednn_isa(flags - {"avx512bw"}) == "avx2"
    assert cpu_isa.onednn_isa({"sse4_1", "avx", "avx2"}) == "avx"  # AVX2 without FMA
    assert cpu_isa.cpu_info(str(tmp_path / "absent")) == ("unknown", set())
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    record = cpu_isa.host_isa()
    assert not record["avx512"] and record["isa_cap"] == "AVX2"
    assert "capped by ONEDNN_MAX_CPU_ISA=AVX2" in host.describe(record)


def test_official_class_from_checkout_with_timm_stand_in(tmp_path, monkeypatch):
    for name in ("timm", "timm.models", "timm.models.layers"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    hide_modules(monkeypatch, "timm")  # as where timm cannot install
    repo = _checkout(tmp_path, "from timm.models.layers import to_2tuple, DropPath\n"
                               "class AHDR:\n    size = to_2tuple(8)\n    drop = DropPath\n")
    cls = official.official_class(repo, "ahdrnet", FAKE_TORCH)
    assert cls.__name__ == "AHDR" and cls.size == (8, 8)
    for name in ("timm", "timm.models", "timm.models.layers"):
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_official_class_errors_name_the_problem(tmp_path):
    with pytest.raises(ConfigError, match="no official PyTorch model known for 'esbn'.*sctnet"):
        official.official_class(str(tmp_path), "esbn", FAKE_TORCH)
    with pytest.raises(DataError, match="official checkout not found"):
        official.official_class(str(tmp_path / "absent"), "ahdrnet", FAKE_TORCH)
    with pytest.raises(DataError, match=r"models/fshdr\.py: not in the checkout"):
        official.official_class(str(tmp_path), "fshdr", FAKE_TORCH)
    repo = _checkout(tmp_path, "class Other:\n    pass\n")
    with pytest.raises(DataError, match="ahdrnet.py: no class AHDR"):
        official.official_class(repo, "ahdrnet", FAKE_TORCH)
    repo = _checkout(tmp_path, "import no_such_package_here\n", "sctnet.py")
    with pytest.raises(MissingWeightsError, match=r"sctnet\.py: cannot import it.*\[official\]"):
        official.official_class(repo, "sctnet", FAKE_TORCH)


def test_measure_official_without_torch(monkeypatch, tmp_path):
    for name in [m for m in sys.modules if m == "torch" or m.startswith("torch.")]:
        monkeypatch.delitem(sys.modules, name)
    hide_modules(monkeypatch, "torch")
    with pytest.raises(MissingWeightsError, match=r"needs torch.*pip install -e '\.\[official\]'"):
        official.measure_official(str(tmp_path), "ahdrnet", 16, 16, runs=1)


def _stand_in_torch():
    """The slice of torch `measure_official` touches, so its bookkeeping (threads, inputs,
    parameter check, timing fields) is tested where the `official` extra is absent."""
    torch = types.ModuleType("torch")
    torch.__version__ = "stand-in"
    torch.threads = []
    torch.set_num_threads = torch.threads.append
    torch.from_numpy = lambda array: array
    torch.no_grad = contextlib.nullcontext

    class Parameter:
        def __init__(self, count):
            self.count = count

        def numel(self):
            return self.count

    class Module:
        def eval(self):
            return self

        def __call__(self, *inputs):
            return self.forward(*inputs)

        def parameters(self):
            return [v for v in vars(self).values() if isinstance(v, Parameter)]

    torch.nn = types.SimpleNamespace(Module=Module, Parameter=Parameter,
                                     init=types.SimpleNamespace(trunc_normal_=lambda t, *a: t))
    return torch


REAL_SOURCE = """import torch
class AHDR(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(18, 3, 3, padding=1)
    def forward(self, x1, x2, x3):
        return self.conv(torch.cat([x1, x2, x3], 1))
"""
STAND_IN_SOURCE = """import torch
class AHDR(torch.nn.Module):
    def __init__(self):
        self.weight = torch.nn.Parameter(489)
    def forward(self, x1, x2, x3):
        assert x1.shape == x2.shape == x3.shape == (1, 6, 16, 24)
        return x1 + x2 + x3
"""


@pytest.mark.parametrize("kind", ["stand_in", "pytorch"])
def test_measure_official_times_the_checkout_and_checks_its_size(tmp_path, monkeypatch, kind):
    if kind == "pytorch":
        pytest.importorskip("torch", reason="needs the `official` extra (PyTorch); the "
                                            "stand-in case covers the rest")
        repo = _checkout(tmp_path, REAL_SOURCE)
    else:
        torch = _stand_in_torch()
        monkeypatch.setitem(sys.modules, "torch", torch)
        repo = _checkout(tmp_path, STAND_IN_SOURCE)
    entry = official.OFFICIAL_MODELS["ahdrnet"]
    monkeypatch.setitem(official.OFFICIAL_MODELS, "ahdrnet",
                        official.OfficialModel(entry.path, entry.class_name, 18 * 3 * 9 + 3))
    r = official.measure_official(repo, "ahdrnet", 16, 24, threads=1, runs=2, warmup=1)
    assert r["implementation"] == "official" and r["backbone"] == "ahdrnet"
    assert r["params"] == 489 and (r["height"], r["width"]) == (16, 24)
    assert r["runs"] == 2 and r["threads"] == 1
    assert 0 < r["min_ms"] <= r["median_ms"] <= r["max_ms"]
    if kind == "stand_in":
        assert torch.threads == [1] and r["method"] == "official ahdrnet (PyTorch stand-in)"
    monkeypatch.setitem(official.OFFICIAL_MODELS, "ahdrnet", entry)
    with pytest.raises(DataError, match="has 489 parameters, the official default has "
                                        "1,241,507: not the official network"):
        official.measure_official(repo, "ahdrnet", 16, 16, runs=1)


def test_official_cli_user_error_is_one_line(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "hdrkeras.bench.official", "--repo",
                           str(tmp_path / "absent"), "--method", "ahdrnet"],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and ("torch" in last or "absent" in last)
    assert "Traceback" not in proc.stderr


def _result(backbone, implementation, median_ms, rss=900.0):
    r = {"method": backbone, "median_ms": median_ms, "params": 1_222_113, "peak_rss_mb": rss}
    if implementation == "official":
        r.update(backbone=backbone, implementation="official",
                 method=f"official {backbone} (PyTorch x)")
    return r


def test_report_takes_the_median_of_round_medians(tmp_path):
    host = {"cpu": "AMD EPYC", "isa": "avx2", "isa_cap": "AVX2"}
    lines = [{"gflops": 371.0, **host}, _result("hdr_transformer", "official", 4400.0),
             _result("hdr_transformer", "hdrkeras", 900.0, rss=1384.0),
             _result("hdr_transformer", "official", 4600.0),
             _result("hdr_transformer", "hdrkeras", 1000.0),
             _result("hdr_transformer", "official", 4500.0),
             _result("hdr_transformer", "hdrkeras", 950.0),
             {"gflops": 440.0, **host}]
    path = tmp_path / "session.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    text = report.markdown(*report.read_session(str(path)))
    row = next(ln for ln in text.splitlines() if ln.startswith("| hdr_transformer"))
    assert "0.95 s (0.90, 1.00, 0.95)" in row and "4.50 s (4.40, 4.60, 4.50)" in row
    assert "4.7x" in row and "1,384 MB / 900 MB" in row and "1,222,113" in row
    assert "371, 440 GFLOP/s; AMD EPYC, oneDNN ISA avx2, capped by ONEDNN_MAX_CPU_ISA=AVX2." in text


def test_report_bad_lines_name_file_and_line(tmp_path):
    path = tmp_path / "session.jsonl"
    path.write_text('{"gflops": 1}\nnot json\n')
    with pytest.raises(DataError, match=r"session\.jsonl:2: not a JSON line"):
        report.read_session(str(path))
    path.write_text('{"something": 1}\n')
    with pytest.raises(DataError, match=r"session\.jsonl:1: neither a benchmark"):
        report.read_session(str(path))
    with pytest.raises(DataError, match="absent.jsonl: cannot read"):
        report.read_session(str(tmp_path / "absent.jsonl"))
