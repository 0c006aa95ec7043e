"""fsskernels federated: argument errors name the option and exit 2 before any model loads."""
import pytest

from fsskernels.federated.cli import _table, main


@pytest.mark.parametrize("argv,name", [(["--clients", "1"], "--clients"), (["--dropout", "1.5"], "--dropout"),
                                       (["--alpha", "0"], "--alpha"), (["--clients", "10", "--train-examples", "5"],
                                                                         "--train-examples"),
                                       (["--min-clients", "20"], "--min-clients")])
def test_bad_arguments_exit_2(argv, name, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert name in capsys.readouterr().err


def test_summary_table_formats_rows():
    t = _table([{"round": 0, "accuracy": 0.5}, {"round": 1, "clients": 3, "failed": 0, "weight": 40, "accuracy": 0.61,
                                                "train_loss": 0.69, "upload_kB": 590.0, "share_ms": 3.2, "server_ms": 9.9}])
    lines = t.splitlines()
    assert lines[0].split() == ["round", "clients", "failed", "weight", "accuracy", "train_loss", "upload_kB",
                                "share_ms", "server_ms"]
    assert lines[2].split() == ["0", "-", "-", "-", "0.500", "-", "-", "-", "-"]
    assert lines[3].split()[:5] == ["1", "3", "0", "40", "0.610"]
