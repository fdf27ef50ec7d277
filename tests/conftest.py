"""Shared pytest helpers: locating parity fixtures and failing loudly when they are absent."""

import os
import pathlib

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TESTS_DIR = pathlib.Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
LOCAL_PARITY = TESTS_DIR / "fixtures" / "parity"
# Large fixtures live beside the checkout (../shared/parity); HDRKERAS_PARITY_DIR overrides.
SHARED_PARITY = pathlib.Path(
    os.environ.get("HDRKERAS_PARITY_DIR", REPO_ROOT.parent / "shared" / "parity"))


def require_fixture(path):
    """Returns `path` if it exists; otherwise fails the test with "fixture missing: ..."."""
    path = pathlib.Path(path)
    if not path.exists():
        pytest.fail(f"fixture missing: {path}", pytrace=False)
    return path


def parity_dir(name):
    """Directory of parity fixture `name`: tests/fixtures/parity first, then ../shared/parity.

    Fails (never skips) when neither has it.
    """
    for root in (LOCAL_PARITY, SHARED_PARITY):
        if (root / name / "meta.json").is_file():
            return root / name
    pytest.fail(f"fixture missing: parity fixture {name!r} in {LOCAL_PARITY} or {SHARED_PARITY}",
                pytrace=False)


@pytest.fixture
def rng():
    """A seeded numpy Generator, so failures reproduce."""
    return np.random.default_rng(1234)
