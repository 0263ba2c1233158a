"""Golden values (issue 15, "must not change"): every trainable preset, NRI-MPM
ablation and baseline gives, bit for bit on the CPU, the loss, validation loss and
gradient norm of one training step, the state_dict keys and shapes (old checkpoints
load), and the test metrics of a 2-epoch tiny run recorded before the models became
compositions (``tests/golden.py`` writes them). Bit for bit needs the same CPU type:
``golden.golden_file()`` picks the values recorded on this one (an AMD EPYC with
AVX-512 BF16 rounds the last bits of the Intel Xeon's recording differently)."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import golden  # noqa: E402

EXPECTED = json.loads(golden.golden_file().read_text())


def test_every_case_has_golden_values():
    assert sorted(EXPECTED) == sorted(golden.cases())


@pytest.mark.parametrize("name", sorted(golden.cases()))
def test_golden_values(name):
    got = golden.compute(name)
    want = EXPECTED[name]
    assert got["step"]["state_dict"] == want["step"]["state_dict"]
    assert got == want


@pytest.mark.parametrize("name", golden.OLD_RUN_CASES)
def test_old_run_directories_load_and_evaluate_as_before(name):
    """Run directories written by the code before the refactor (tests/old_runs: their
    config.yaml and best.ckpt as ``nri train`` wrote them) load unchanged and give the
    golden test metrics."""
    from nri.training.fit import load_run

    run = load_run(golden.OLD_RUNS / name)
    assert type(run.model).__name__ == EXPECTED_CLASS[run.config.model]
    got = golden.old_run_metrics(name)
    # on another CPU type than the first recording's, its own file holds what the
    # pre-refactor code gave for these checkpoints there (golden.old_run_file)
    own = golden.old_run_file()
    if own is not None:
        want = json.loads(own.read_text())[name]
    else:
        want = {k: v for k, v in EXPECTED[name]["run"].items() if k != "best_score"}
    assert got == want


EXPECTED_CLASS = {"nri": "NRI", "nri_mpm": "NRIMPM", "sugar": "SUGAR",
                  "nri_supervised": "NRISupervised", "nri_true_graph": "NRITrueGraph",
                  "correlation": "Correlation"}  # fmt: skip
