"""The settings' environment variables as a deployment mistypes them: a value that is not a
number is named, with the variable to fix, in one line rather than Python's traceback."""

from __future__ import annotations

import pytest

from etl.cli.main import main
from etl.config import SettingError, load_settings


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HTX_BATCH_SIZE", "abc"),
        ("HTX_PROCESSES", "two"),
        ("HTX_MAX_FILE_MB", "ten"),
        ("HTX_MAX_EXPANDED_MB", "500MB"),
        ("HTX_MAX_ROWS", "1e5"),
        ("HTX_MAX_CELLS", "5,000,000"),
        ("HTX_MAX_CELL_CHARS", "lots"),
        ("HTX_RETRY_DELAY_SECONDS", "30s"),
    ],
)
def test_a_setting_that_is_not_a_number_names_the_variable_and_its_value(name, value):
    with pytest.raises(SettingError) as raised:
        load_settings({name: value})
    assert str(raised.value).startswith(f"{name}={value!r}: ")
    assert "\n" not in str(raised.value)


def test_a_decimal_size_in_mb_is_still_taken():
    assert load_settings({"HTX_MAX_FILE_MB": "0.5"}).limits.file_bytes == 512 * 1024


def test_htx_says_which_setting_to_fix_in_one_line_and_exits_2(monkeypatch, capsys):
    monkeypatch.setenv("HTX_BATCH_SIZE", "abc")
    assert main(["env"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("HTX_BATCH_SIZE='abc': ")
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("value", ["inf", "nan", "1e400", "-inf"])
def test_a_size_in_mb_that_is_no_finite_number_names_the_variable(value):
    """`float` takes `inf` ("no limit", as someone may mean it) and `nan`; a limit in bytes
    cannot be either, and Python's error (`cannot convert float infinity to integer`) names
    neither the variable nor the fix."""
    with pytest.raises(SettingError) as raised:
        load_settings({"HTX_MAX_EXPANDED_MB": value})
    assert str(raised.value).startswith(f"HTX_MAX_EXPANDED_MB={value!r}: ")


def test_the_retry_delay_is_whole_seconds_within_a_day_and_passed_on():
    from etl.flow.dagkit import retries

    default = load_settings({})
    assert default.retry_delay_seconds == 30
    # Given to the Airflow processes that parse the DAGs, the default too: a value the
    # parent process was started with never wins over this deployment's.
    assert default.airflow_environ()["HTX_RETRY_DELAY_SECONDS"] == "30"
    five = load_settings({"HTX_RETRY_DELAY_SECONDS": "5"})
    assert five.airflow_environ()["HTX_RETRY_DELAY_SECONDS"] == "5"
    assert retries(five)["retry_delay"].total_seconds() == 5
    assert retries(five)["max_retry_delay"].total_seconds() == 300
    # A long first delay keeps its second twice as long: the cap follows it.
    hour = load_settings({"HTX_RETRY_DELAY_SECONDS": "3600"})
    assert retries(hour)["max_retry_delay"].total_seconds() == 7200
    for value in ("-1", "86401"):
        with pytest.raises(SettingError) as raised:
            load_settings({"HTX_RETRY_DELAY_SECONDS": value})
        assert str(raised.value).startswith(
            f"HTX_RETRY_DELAY_SECONDS={value!r}: must be 0 to 86400 seconds"
        )
