"""Bad input to the command-line tools, one test per kind (issue 14, item 8): each runs the
tool in-process through its entry point and checks the exit code, the one-line message and
that nothing was left behind."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from hdrkeras import cli
from hdrkeras import evaluate as evaluate_tool
from hdrkeras import fit as fit_tool
from hdrkeras import make_selfhdr_targets as targets_tool
from hdrkeras import make_tfrecord as tfrecord_tool
from hdrkeras import reconstruct as reconstruct_tool
from hdrkeras.data.testing import random_scene, write_kalantari, write_scene
from hdrkeras.errors import ConfigError
from hdrkeras.io.atomic import atomic_write_text

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_tool(tool, capsys, *args):
    """(exit code, stdout, stderr) of one in-process run of `tool` with `args`."""
    with pytest.raises(SystemExit) as exc:
        tool.entry([tool.__name__, *map(str, args)])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def error_line(err):
    """The one `error: ...` line (and that there is exactly one, and no traceback)."""
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def tree(path):
    """Every path under `path` (relative), to assert nothing was written."""
    out = []
    for dirpath, dirnames, filenames in os.walk(path):
        out += [os.path.relpath(os.path.join(dirpath, n), path) for n in dirnames + filenames]
    return sorted(out)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A Kalantari-layout root with 2 training scenes and 1 test scene, 24x32 pixels."""
    rng = np.random.default_rng(0)
    root = str(tmp_path_factory.mktemp("bad_input") / "data")
    scenes = {f"{i:03d}": (*random_scene(rng, 24, 32),) for i in (1, 2)}
    write_kalantari(root, {k: (l, (0, 2, 4), h) for k, (l, h) in scenes.items()}, "Training")
    ldr, hdr = random_scene(rng, 24, 32)
    write_kalantari(root, {"001": (ldr, (0, 2, 4), hdr)}, "Test")
    return root


@pytest.fixture(scope="module")
def records(dataset, tmp_path_factory):
    """Scene records of `dataset`: ROOT/train and ROOT/test."""
    from hdrkeras.data import kalantari, records as rec

    root = tmp_path_factory.mktemp("bad_input_records")
    for split in ("train", "test"):
        rec.write_records(kalantari.list_scenes(dataset, split), str(root / split), split=split,
                          source=dataset)
    return root


def _unwritable(tmp_path):
    """A folder this process cannot write into, for root too (/sys refuses new files)."""
    if os.geteuid() == 0:
        return "/sys"
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o500)
    return str(folder)


# ----------------------------------------------------------------- run_main's contract

def test_run_main_one_line_for_own_errors_traceback_for_bugs(capsys):
    from absl import flags

    fv = flags.FlagValues()
    flags.DEFINE_integer("n", 1, "a number", flag_values=fv)

    def user_error(argv):
        raise ConfigError("--n is wrong")

    def bug(argv):
        return {}["missing key"]

    with pytest.raises(SystemExit) as exc:
        cli.run_main(user_error, ["tool"], fv)
    assert exc.value.code == 1
    assert capsys.readouterr().err == "error: --n is wrong\n"
    with pytest.raises(KeyError):  # a bug keeps its traceback
        cli.run_main(bug, ["tool"], fv)
    with pytest.raises(SystemExit) as exc:
        cli.run_main(user_error, ["tool", "--n", "x"], fv)
    assert exc.value.code == 1 and "--n" in error_line(capsys.readouterr().err)


# ----------------------------------------------------------------- option ranges

@pytest.mark.parametrize("tool,args,flag", [
    (fit_tool, ["--steps", "0"], "--steps"),
    (fit_tool, ["--steps", "-2"], "--steps"),
    (fit_tool, ["--batch_size", "0"], "--batch_size"),
    (fit_tool, ["--learning_rate", "-1"], "--learning_rate"),
    (fit_tool, ["--learning_rate", "nan"], "--learning_rate"),
    (fit_tool, ["--checkpoint_every", "0"], "--checkpoint_every"),
    (tfrecord_tool, ["--shard_size", "0"], "--shard_size"),
    (tfrecord_tool, ["--workers", "0"], "--workers"),
    (tfrecord_tool, ["--mode", "patches", "--stride", "0"], "--stride"),
    (evaluate_tool, ["--max_scenes", "0"], "--max_scenes"),
    (reconstruct_tool, ["--method", "classical_merge", "--tile", "-1"], "--tile"),
])
def test_option_out_of_range_names_that_one_flag(tool, args, flag, tmp_path, capsys,
                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    common = {fit_tool: ["--method", "esbn", "--run_dir", "run", "--train_records", "absent"],
              tfrecord_tool: ["--data", "absent", "--out", "records"],
              evaluate_tool: ["--data", "absent", "--out", "eval"],
              reconstruct_tool: ["--input", "absent", "--out", "x.hdr"]}[tool]
    code, _, err = run_tool(tool, capsys, *common, *args)
    line = error_line(err)
    assert code == 1 and line.startswith(f"error: {flag} must be "), line
    assert line.count("--") == 1  # names the one wrong flag, not four at once
    assert tree(tmp_path) == []


# ----------------------------------------------------------------- output locations

def _output_cases(tmp_path):
    """{tool: [(args, flag)]} with the output in a regular file, a folder where a file is
    expected, or an unwritable folder; inputs do not exist, so a message about them would
    show the output was checked too late."""
    regular = tmp_path / "regular"
    regular.write_text("x")
    (tmp_path / "folder.hdr").mkdir()
    locked = _unwritable(tmp_path)
    cases = []
    for place in (str(regular), os.path.join(locked, "out")):
        cases += [
            (tfrecord_tool, ["--data", "absent", "--out", place], "--out"),
            (fit_tool, ["--method", "esbn", "--train_records", "absent", "--run_dir", place],
             "--run_dir"),
            (evaluate_tool, ["--data", "absent", "--out", place], "--out"),
            (targets_tool, ["--data", "absent", "--out", "", "--align_dir", place],
             "--align_dir"),
            (targets_tool, ["--data", "absent", "--out", place], "--out"),
            (reconstruct_tool, ["--method", "classical_merge", "--input", "absent", "--out",
                                place + ".hdr" if place != str(regular) else
                                os.path.join(place, "x.hdr")], "--out"),
        ]
    cases.append((reconstruct_tool, ["--method", "classical_merge", "--input", "absent",
                                     "--out", str(tmp_path / "folder.hdr")], "--out"))
    cases.append((evaluate_tool, ["--data", "absent", "--out", str(tmp_path / "ev")], "--out"))
    (tmp_path / "ev" / "metrics.csv").mkdir(parents=True)
    return cases


def test_unwritable_outputs_are_one_line_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cases = _output_cases(tmp_path)
    before = tree(tmp_path)
    for tool, args, flag in cases:
        code, out, err = run_tool(tool, capsys, *args)
        line = error_line(err)
        assert code == 1 and line.startswith(f"error: {flag} "), (tool.__name__, args, line)
        assert "absent" not in line and "loading" not in out, line
        assert tree(tmp_path) == before, (tool.__name__, args)


def test_export_output_inside_a_file_is_one_line(tmp_path):
    regular = tmp_path / "regular"
    regular.write_text("x")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, "-m", "hdrkeras.export", "--method",
                           "classical_merge", "--out", str(regular / "export")],
                          capture_output=True, text=True, env=env, timeout=300)
    line = error_line(proc.stderr)
    assert proc.returncode == 1 and line.startswith("error: --out ") and "regular" in line
    assert tree(tmp_path) == ["regular"]


# ----------------------------------------------------------------- partial output

def test_make_tfrecord_failed_scene_leaves_no_out_folder(dataset, tmp_path, capsys):
    import shutil

    root = tmp_path / "data"
    shutil.copytree(dataset, root)
    frame = sorted((root / "Training" / "002").glob("*.tif"))[1]
    frame.write_bytes(b"not a tiff")
    out = tmp_path / "new" / "records"
    code, _, err = run_tool(tfrecord_tool, capsys, "--data", root, "--out", out,
                            "--workers", "1")
    line = error_line(err)
    assert code == 1 and "002" in line
    assert not (tmp_path / "new").exists()


def test_make_selfhdr_targets_failed_scene_leaves_no_partial_align_tree(dataset, tmp_path,
                                                                         capsys):
    import shutil

    root = tmp_path / "data"
    shutil.copytree(dataset, root)
    (root / "Test").rename(tmp_path / "Test")  # only Training is read
    frame = sorted((root / "Training" / "002").glob("*.tif"))[1]
    frame.write_bytes(b"not a tiff")
    before = tree(root)
    out = tmp_path / "records"
    code, _, err = run_tool(targets_tool, capsys, "--data", root, "--out", out,
                            "--flow", "ultrafast")
    line = error_line(err)
    assert code == 1 and "002" in line
    assert tree(root) == before and not out.exists()  # no Training_align/, no records
    shutil.copy(sorted((root / "Training" / "001").glob("*.tif"))[1], frame)
    code, out_text, err = run_tool(targets_tool, capsys, "--data", root, "--out", out,
                                   "--flow", "ultrafast")
    assert code == 0, err  # and nothing blocks the rerun
    assert sorted(os.listdir(root / "Training_align")) == ["001", "002"]


def test_stale_temporaries_of_a_killed_writer_are_removed_by_the_next(dataset, tmp_path,
                                                                      capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "records"
    out.mkdir()
    stale = out / f".train.p{dead.pid}.abcd1234.tmp"
    (stale / "inner").mkdir(parents=True)
    live = out / ".test.p1.abcd1234.tmp"  # pid 1 always runs: a write in progress
    live.mkdir()
    code, _, err = run_tool(tfrecord_tool, capsys, "--data", dataset, "--out", out,
                            "--split", "train", "--workers", "1")
    assert code == 0, err
    assert sorted(os.listdir(out)) == [live.name, "train"]


def test_fit_stopped_at_start_up_or_step_2_leaves_no_folders(records, tmp_path, capsys):
    run_dir = tmp_path / "runs" / "esbn"
    # Start-up: a crop larger than the records (raised once the stage folder exists).
    code, _, err = run_tool(fit_tool, capsys, "--method", "esbn", "--stage", "align_low",
                            "--run_dir", run_dir, "--train_records", records / "train",
                            "--val", "", "--patch_size", "64", "--batch_size", "1")
    assert code == 1 and "patch_size" in error_line(err)
    assert not (tmp_path / "runs").exists()
    # A loss that turns non-finite names the step; no event logs or folders stay behind.
    code, _, err = run_tool(fit_tool, capsys, "--method", "esbn", "--stage", "align_low",
                            "--run_dir", run_dir, "--train_records", records / "train",
                            "--val", "", "--patch_size", "16", "--batch_size", "1",
                            "--steps", "2", "--learning_rate", "1e35")
    line = error_line(err)
    assert code == 1 and "loss became" in line and "at step 2 " in line
    assert str(records / "train") in line
    assert not (tmp_path / "runs").exists()


def test_fit_guards_the_run_folder(records, dataset, tmp_path, capsys):
    """Checkpoint temporaries of a killed run go; a finished stage is not rerun with other
    options; another method's run folder and wrong records paths are refused."""
    run_dir = tmp_path / "run"
    common = ["--method", "esbn", "--stage", "align_low", "--run_dir", run_dir,
              "--train_records", records / "train", "--val", "", "--patch_size", "16",
              "--steps", "1", "--checkpoint_every", "1"]
    temp = run_dir / "align_low" / "ckpt" / "ckpt-7_temp"
    temp.mkdir(parents=True)
    (temp / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"\0" * 1000)
    code, out, err = run_tool(fit_tool, capsys, *common, "--batch_size", "2")
    assert code == 0, err
    assert not temp.exists() and "ckpt-7_temp" in out
    assert json.loads((run_dir / "run.json").read_text())["method"] == "esbn"
    done = json.loads((run_dir / "align_low" / "done.json").read_text())
    before = tree(run_dir)

    code, _, err = run_tool(fit_tool, capsys, *common, "--batch_size", "1")
    line = error_line(err)
    assert code == 1 and "already finished" in line and "batch_size: 2 -> 1" in line
    assert json.loads((run_dir / "align_low" / "done.json").read_text()) == done

    code, _, err = run_tool(fit_tool, capsys, "--method", "sctnet", "--run_dir", run_dir,
                            "--train_records", records / "train", "--val", "")
    line = error_line(err)
    assert code == 1 and "holds a esbn run" in line and "--run_dir" in line
    assert tree(run_dir) == before

    for given, hint in ((records, f"pass --train_records {records / 'train'}"),
                        (dataset, "python -m hdrkeras.make_tfrecord --data")):
        code, _, err = run_tool(fit_tool, capsys, *common[:-6], "--train_records", given,
                                "--run_dir", tmp_path / "other")
        line = error_line(err)
        assert code == 1 and hint in line, line
    assert not (tmp_path / "other").exists()


def test_later_stages_are_flagged_when_an_earlier_one_is_retrained(tmp_path):
    from hdrkeras import methods
    from hdrkeras.training import RunConfig, runner

    method = methods.get("esbn")
    config = RunConfig(run_dir=str(tmp_path), train_records="")
    for stage in ("align_low", "fusion", "joint"):
        atomic_write_text(os.path.join(tmp_path, stage, "done.json"),
                          json.dumps({"stage": stage, "steps": 1}))
    atomic_write_text(os.path.join(tmp_path, "run.json"),
                      json.dumps({"method": "esbn", "model_stage": "joint"}))
    logs = []
    runner._mark_later_stages_stale(method, "align_low", config, logs.append)
    assert "fusion, joint" in logs[0] and "stale" in logs[0]
    for stage in ("fusion", "joint"):
        assert "align_low" in json.loads((tmp_path / stage / "done.json").read_text())["stale"]
    assert "stale" not in json.loads((tmp_path / "align_low" / "done.json").read_text())
    assert "align_low" in json.loads((tmp_path / "run.json").read_text())["model_stale"]
    with pytest.raises(ConfigError, match="joint.*stale"):
        runner._check_rerun(method, "joint", {}, config)


# ----------------------------------------------------------------- silently wrong before

def test_resynthesizing_does_not_mix_old_scenes_in(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    synth = tmp_path / "synth"
    (synth / "Training" / "999").mkdir(parents=True)
    (synth / "synthesis.json").write_text("{}")
    args = ["--synth_dir", synth, "--out", tmp_path / "records", "--split", "train",
            "--synth_train", "1", "--synth_size", "32x32", "--workers", "1"]
    code, _, err = run_tool(tfrecord_tool, capsys, *args)
    line = error_line(err)
    assert code == 1 and "--synth_dir" in line and "--overwrite" in line
    assert not (tmp_path / "records").exists()
    code, _, err = run_tool(tfrecord_tool, capsys, *args, "--overwrite")
    assert code == 0, err
    assert os.listdir(synth / "Training") == ["001"]
    from hdrkeras.data import records
    assert records.read_manifest(str(tmp_path / "records" / "train"))["num_records"] == 1


def test_reconstruct_exposures_that_contradict_the_frames(tmp_path, capsys):
    rng = np.random.default_rng(1)
    ldr, hdr = random_scene(rng, 16, 16)
    scene = tmp_path / "scene"
    write_scene(str(scene), ldr, (0, 2, 4), hdr)  # frames stored dark to bright
    out = tmp_path / "out" / "x.hdr"
    code, _, err = run_tool(reconstruct_tool, capsys, "--method", "classical_merge", "--input",
                            scene, "--exposures", "16,4,1", "--out", out)
    line = error_line(err)
    assert code == 1 and "--exposures 16,4,1 contradict the frames" in line
    assert not (tmp_path / "out").exists()
    code, _, err = run_tool(reconstruct_tool, capsys, "--method", "classical_merge", "--input",
                            scene, "--exposures", "1,4,16", "--out", out)
    assert code == 0 and out.exists(), err


def test_reconstruct_without_a_model_says_what_to_give(tmp_path, capsys):
    code, out, err = run_tool(reconstruct_tool, capsys, "--input", tmp_path, "--out",
                              tmp_path / "x.hdr")
    line = error_line(err)
    assert code == 1 and "--model" in line and "--method" in line
    assert "None" not in out + err and tree(tmp_path) == []


def test_evaluate_on_records_names_their_dataset(records, dataset, tmp_path, capsys):
    code, _, err = run_tool(evaluate_tool, capsys, "--data", records, "--out", tmp_path / "ev")
    line = error_line(err)
    assert code == 1 and "holds TFRecords" in line and f"--data {dataset}" in line
    assert tree(tmp_path) == []


def test_evaluate_never_prints_non_finite_scores_silently(tmp_path, capsys):
    rng = np.random.default_rng(2)
    ldr, hdr = random_scene(rng, 16, 16)
    hdr = hdr.copy()
    hdr[3, 4, 1] = 1.7e38  # one absurd ground-truth pixel: refused where the scene is read
    root = tmp_path / "data"
    write_scene(str(root / "Test" / "bad"), ldr, (0, 2, 4), hdr)
    code, out, err = run_tool(evaluate_tool, capsys, "--data", root, "--out",
                              tmp_path / "eval", "--method", "reference_only",
                              "--baselines=false")
    line = error_line(err)
    assert code == 1 and "scene bad" in line and "-inf" not in out
    assert not (tmp_path / "eval").exists()
    # Scores that are non-finite for another reason (a model emitting inf) are named.
    from hdrkeras import evaluation

    row = {"seconds": 0.1, **{m: 1.0 for m in evaluation.IMAGE_METRICS}}
    rows = [dict(row, model="a", scene="s1"), dict(row, model="b", scene="s1", psnr_mu=-np.inf),
            dict(row, model="a", scene="s2", psnr_l=np.nan),
            dict(row, model="b", scene="s2", psnr_l=np.nan)]
    evaluate_tool.warn_non_finite(rows)
    err = capsys.readouterr().err.splitlines()
    assert err == ["warning: scene s1: non-finite metrics for b; the means include them",
                   "warning: scene s2: non-finite metrics for every model (check its ground "
                   "truth for absurd or non-finite values); the means include them"]
