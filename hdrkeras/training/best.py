"""Best-checkpoint bookkeeping: which weights a stage, and a run, keeps.

Training curves on small data are noisy and a fine-tuning stage can make a model worse
(issue 18: ESBN's joint stage lowered validation PSNR-mu from 25.5 to 23.9). So:

* Within a stage, every validation whose score beats the stage's best so far writes the
  networks to RUN_DIR/<stage>/best/ (weights + best.json, swapped in atomically). When
  the stage ends, those weights are loaded back into the networks: the stage's
  inference model, RUN_DIR/<stage>/model.keras, and the stages after it all use the kept
  step, and done.json records it.
* Across stages, RUN_DIR/model.keras (what export and reconstruct read) is replaced by a
  later stage only if that stage's kept score is at least as good as the one recorded in
  RUN_DIR/model.json; otherwise the better earlier model stays, and the log says so.

The score is validation PSNR-mu (higher is better) where the stage has an inference model,
else the validation loss (lower is better). Without a validation set nothing is compared:
the last step is kept and the last stage writes model.keras, as before.
"""

import json
import os
import time

import tensorflow as tf

from hdrkeras.io.atomic import atomic_path, atomic_write_text

BEST_DIR = "best"
BEST_JSON = "best.json"
WEIGHTS = "weights"
RUN_MODEL_JSON = "model.json"
# Metric names, the direction that is better, in order of preference.
METRICS = (("val_psnr_mu", +1), ("val_loss", -1))


def score_of(val):
    """(metric name, value, sign) of a validation dict, or None when it has no metric."""
    for name, sign in METRICS:
        if name in val:
            return name, float(val[name]), sign
    return None


def better(a, b):
    """True when record `a` beats record `b` (dicts with metric, value, sign); ties keep b."""
    if b is None:
        return True
    if a["metric"] != b["metric"]:
        return False  # not comparable: keep what is there
    return a["sign"] * (a["value"] - b["value"]) > 0


def _read_json(path):
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


class StageBest:
    """The best validation of one stage so far, persisted in RUN_DIR/<stage>/best/ so that a
    resumed stage keeps comparing against it."""

    def __init__(self, stage_dir, stage_name, networks, write=True):
        """`write=False` (a multi-worker run's non-chief) keeps the same record in memory
        and reads the chief's saved weights at the end instead of writing its own."""
        self.dir = os.path.join(stage_dir, BEST_DIR)
        self.stage = stage_name
        self.networks = dict(networks)
        self.write = write
        self.record = _read_json(os.path.join(self.dir, BEST_JSON))

    def update(self, step, val, log=print):
        """Saves the networks if `val` (a validation dict) is the stage's best; True if so."""
        score = score_of(val)
        if score is None:
            return False
        metric, value, sign = score
        rec = {"stage": self.stage, "step": int(step), "metric": metric, "value": value,
               "sign": sign, "saved": time.strftime("%Y-%m-%dT%H:%M:%S")}
        if not better(rec, self.record):
            return False
        self.record = rec
        if not self.write:
            return True
        with atomic_path(self.dir) as tmp:
            os.makedirs(tmp)
            tf.train.Checkpoint(**self.networks).write(os.path.join(tmp, WEIGHTS))
            with open(os.path.join(tmp, BEST_JSON), "w") as f:
                json.dump(rec, f, indent=2)
        log(f"[{self.stage}] best so far: step {step} ({metric} {value:.4f})")
        return True

    def restore(self, final_step, log=print):
        """Loads the best weights into the networks; returns the kept record (None: the last
        step is kept because nothing was validated)."""
        if self.record is None:
            return None
        if self.record["step"] != int(final_step):
            tf.train.Checkpoint(**self.networks).read(
                os.path.join(self.dir, WEIGHTS)).expect_partial().assert_existing_objects_matched()
            log(f"[{self.stage}] keeping step {self.record['step']} ({self.record['metric']} "
                f"{self.record['value']:.4f}), the best validation, over the last step "
                f"{final_step}")
        else:
            log(f"[{self.stage}] keeping the last step {final_step} ({self.record['metric']} "
                f"{self.record['value']:.4f}), the best validation")
        return self.record


def kept_weights(stage_dir):
    """Checkpoint prefix of a finished stage's kept weights: the best validation's, else
    the latest training checkpoint (None when neither exists)."""
    best = os.path.join(stage_dir, BEST_DIR)
    if os.path.isfile(os.path.join(best, BEST_JSON)):
        return os.path.join(best, WEIGHTS)
    return tf.train.latest_checkpoint(os.path.join(stage_dir, "ckpt"))


def publish_run_model(run_dir, stage_name, model, record, log=print):
    """Writes `model` as RUN_DIR/<stage>/model.keras, and as RUN_DIR/model.keras unless an
    earlier stage recorded in RUN_DIR/model.json scored better; returns the path that
    holds the run's model afterwards."""
    stage_path = os.path.join(run_dir, stage_name, "model.keras")
    with atomic_path(stage_path) as tmp:
        model.save(tmp)
    run_path = os.path.join(run_dir, "model.keras")
    current = _read_json(os.path.join(run_dir, RUN_MODEL_JSON))
    if (current is not None and current.get("stage") != stage_name and record is not None
            and current.get("metric") == record["metric"] and os.path.isfile(run_path)
            and not better(record, current) and record["value"] != current["value"]):
        log(f"[{stage_name}] {record['metric']} {record['value']:.4f} is worse than stage "
            f"{current['stage']!r} (step {current['step']}, {current['value']:.4f}): "
            f"{run_path} stays that stage's model; this stage's is {stage_path}")
        return run_path
    with atomic_path(run_path) as tmp:
        model.save(tmp)
    entry = dict(record) if record is not None else {"stage": stage_name, "step": None,
                                                     "metric": None, "value": None}
    entry["stage"] = stage_name
    atomic_write_text(os.path.join(run_dir, RUN_MODEL_JSON), json.dumps(entry, indent=2))
    kept = (f"step {entry['step']}, {entry['metric']} {entry['value']:.4f}"
            if record is not None else "last step, not validated")
    log(f"[{stage_name}] inference model written to {run_path} ({kept})")
    return run_path
