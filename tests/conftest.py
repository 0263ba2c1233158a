"""Shared fixtures: the reference data sets written by the original NRI generator."""

from __future__ import annotations

from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference-data"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not (REFERENCE / "loc_train_springs5.npy").exists():
        pytest.skip(f"reference data not found at {REFERENCE}")
    return REFERENCE
