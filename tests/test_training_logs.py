"""The CSV log of a run survives --resume: kept rows, dropped partial-epoch rows."""

from nri.training.logs import ResumableCSVLogger, truncate_metrics


def test_truncate_keeps_rows_before_the_checkpoint_step(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text(
        "epoch,step,train/loss,val/nll\n0,4,1.0,\n0,7,,2.0\n1,9,0.5,\n1,12,0.4,\n"
    )
    truncate_metrics(path, before_step=8)
    assert path.read_text().splitlines() == [
        "epoch,step,train/loss,val/nll",
        "0,4,1.0,",
        "0,7,,2.0",
    ]


def test_logger_appends_instead_of_deleting(tmp_path):
    first = ResumableCSVLogger(tmp_path, name="logs", version="")
    first.log_metrics({"a": 1.0}, step=0)
    first.save()
    second = ResumableCSVLogger(tmp_path, name="logs", version="")
    second.log_metrics({"a": 2.0, "b": 3.0}, step=1)
    second.save()
    lines = (tmp_path / "logs" / "metrics.csv").read_text().splitlines()
    assert lines[0] == "a,b,step"
    assert lines[1:] == ["1.0,,0", "2.0,3.0,1"]
