"""The external-format hook of ``nri import --format NAME`` (nri.data.formats): a
reader's own splits are kept, a single Series is split at random, options reach the
reader as strings, and unknown formats or bad options are one line (exit 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests._own_data import run_cli

from nri.data import formats
from nri.data.formats import Format, parse_options
from nri.data.series import make_series

SEEN: dict[str, object] = {}


def _series(n: int, frames: int, offset: float = 0.0):
    rng = np.random.default_rng(n + frames)
    x = rng.normal(size=(n, 3, frames, 2)) + offset
    return make_series(x, source="fake", feature_names=("a", "b"))


def read_split(path, *, window, stride, **options):  # noqa: ANN001, ANN201
    SEEN.update(path=path, window=window, stride=stride, options=options)
    return {"train": _series(6, 12), "valid": _series(2, 12), "test": _series(2, 20)}


def read_one(path, *, window, stride, **options):  # noqa: ANN001, ANN201
    return _series(20, 12)


@pytest.fixture
def fake_formats(monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setitem(
        formats.FORMATS, "fake_split", Format(__name__, "read_split", "t", "reference")
    )
    monkeypatch.setitem(formats.FORMATS, "fake_one", Format(__name__, "read_one", "t"))


def test_own_splits_kept_and_options_passed(tmp_path, capsys, fake_formats):  # noqa: ANN001
    src = tmp_path / "in.bin"
    src.write_bytes(b"")
    out = tmp_path / "data"
    argv = ["import", str(src), "--out", str(out), "--format", "fake_split",
            "--format-option", "speed=fast", "--format-option", "k = 3"]  # fmt: skip
    code, _, err = run_cli(argv, capsys)
    assert code == 0, err
    assert SEEN["options"] == {"speed": "fast", "k": "3"}
    assert np.load(out / "feat_train_in.npy").shape == (6, 3, 12, 2)
    assert np.load(out / "feat_test_in.npy").shape == (2, 3, 20, 2)
    meta = json.loads((out / "meta_in.json").read_text())
    assert meta["import"]["format"] == "fake_split"
    assert meta["import"]["edges_meaning"] == "reference"
    assert meta["import"]["split"] == "defined by the fake_split format"


def test_single_series_split_at_random(tmp_path, capsys, fake_formats):  # noqa: ANN001
    src = tmp_path / "one.bin"
    src.write_bytes(b"")
    out = tmp_path / "data"
    code, _, err = run_cli(["import", str(src), "--out", str(out), "--format",
                            "fake_one"], capsys)  # fmt: skip
    assert code == 0, err
    sizes = [
        np.load(out / f"feat_{s}_one.npy").shape[0] for s in ("train", "valid", "test")
    ]
    assert sizes == [16, 2, 2]


def test_split_options_of_a_format_with_own_splits_are_refused(
    tmp_path, capsys, fake_formats
):  # noqa: ANN001
    """The reader's splits are kept, so --seed (or --split-by, --valid-frac,
    --test-frac) would be ignored: one line, nothing written; a format returning
    one Series takes them."""
    src = tmp_path / "in.bin"
    src.write_bytes(b"")
    for option in (["--seed", "1"], ["--valid-frac", "0.3"], ["--split-by", "time"]):
        code, _, err = run_cli(["import", str(src), "--out", str(tmp_path / "o"),
                                "--format", "fake_split", *option], capsys)  # fmt: skip
        assert code == 2 and len(err.splitlines()) == 1, err
        assert f"{option[0]} {option[1]} does not apply" in err
        assert "fake_split format defines its own" in err
        assert not (tmp_path / "o").exists()
    code, _, err = run_cli(["import", str(src), "--out", str(tmp_path / "one"),
                            "--format", "fake_one", "--valid-frac", "0.3"], capsys)  # fmt: skip
    assert code == 0 and np.load(tmp_path / "one" / "feat_valid_in.npy").shape[0] == 6


def test_unknown_format_is_one_line(tmp_path, capsys, fake_formats):  # noqa: ANN001
    src = tmp_path / "x.bin"
    src.write_bytes(b"")
    code, _, err = run_cli(["import", str(src), "--out", str(tmp_path / "o"),
                            "--format", "nope"], capsys)  # fmt: skip
    assert code == 2
    assert "unknown data format 'nope'" in err and "fake_one" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("pairs", [["novalue"], ["=3"], ["a=1", "a=2"]])
def test_bad_format_options(pairs):  # noqa: ANN001
    with pytest.raises(ValueError, match="--format-option"):
        parse_options(pairs)
