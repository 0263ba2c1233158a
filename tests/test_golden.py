"""Golden values (issue 15, "must not change"): every trainable preset, NRI-MPM
ablation and baseline gives, bit for bit on the CPU, the loss, validation loss and
gradient norm of one training step, the state_dict keys and shapes (old checkpoints
load), and the test metrics of a 2-epoch tiny run recorded before the models became
compositions (``tests/golden.py`` writes them)."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import golden  # noqa: E402

EXPECTED = json.loads(golden.GOLDEN.read_text())


def test_every_case_has_golden_values():
    assert sorted(EXPECTED) == sorted(golden.cases())


@pytest.mark.parametrize("name", sorted(golden.cases()))
def test_golden_values(name):
    got = golden.compute(name)
    want = EXPECTED[name]
    assert got["step"]["state_dict"] == want["step"]["state_dict"]
    assert got == want
