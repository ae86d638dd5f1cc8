"""The scheduler's decision about a due operation (no database)."""

import datetime

import pytest

from karbor.conf import CONF
from karbor.services.operationengine import scheduler
from karbor.services.operationengine import timetrigger

DUE = datetime.datetime(2030, 1, 1, 10, 0)
MINUTE = datetime.timedelta(minutes=1)
SECOND = datetime.timedelta(seconds=1)


def every_minute(window):
    return timetrigger.TimeTrigger({
        'format': 'crontab', 'pattern': '* * * * *',
        'start_time': '2029-12-31T00:00:00', 'end_time': None,
        'window': window})


def test_on_time():
    following, runs = scheduler.due_runs(every_minute(60), DUE,
                                         DUE + 5 * SECOND)
    assert following == DUE + MINUTE
    assert runs == [(DUE, 'started', None)]


def test_late_but_within_the_window():
    trigger = timetrigger.TimeTrigger({
        'format': 'crontab', 'pattern': '0 * * * *',
        'start_time': '2029-12-31T00:00:00', 'end_time': None,
        'window': 600})
    following, runs = scheduler.due_runs(trigger, DUE, DUE + 9 * MINUTE)
    assert following == DUE + 60 * MINUTE
    assert runs == [(DUE, 'started', None)]


def test_after_the_window():
    trigger = timetrigger.TimeTrigger({
        'format': 'crontab', 'pattern': '0 * * * *',
        'start_time': '2029-12-31T00:00:00', 'end_time': None,
        'window': 600})
    following, runs = scheduler.due_runs(trigger, DUE,
                                         DUE + 10 * MINUTE + SECOND)
    assert following == DUE + 60 * MINUTE
    ((due, status, reason),) = runs
    assert (due, status) == (DUE, 'skipped')
    assert 'missed its window' in reason


def test_several_missed_runs_start_once():
    following, runs = scheduler.due_runs(every_minute(120), DUE,
                                         DUE + 90 * MINUTE + SECOND)
    assert following == DUE + 91 * MINUTE
    assert [(due, status) for due, status, _ in runs] == [
        (DUE, 'skipped'), (DUE + 90 * MINUTE, 'started')]
    assert 'replaced by the one due at 2030-01-01 11:30:00' in runs[0][2]


def test_last_run_of_an_ending_trigger():
    trigger = timetrigger.TimeTrigger({
        'format': 'crontab', 'pattern': '* * * * *',
        'start_time': '2029-12-31T00:00:00',
        'end_time': '2030-01-01T10:00:00', 'window': 60})
    following, runs = scheduler.due_runs(trigger, DUE, DUE + SECOND)
    assert following is None
    assert runs == [(DUE, 'started', None)]


def test_no_trigger():
    following, runs = scheduler.due_runs(None, DUE, DUE + SECOND,
                                         'trigger T no longer exists')
    assert following is None
    assert runs == [(DUE, 'failed', 'trigger T no longer exists')]


def test_system_clock_is_naive_utc():
    now = scheduler.SystemClock().now()
    assert now.tzinfo is None
    utc = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert abs(utc - now) < datetime.timedelta(seconds=5)


def test_file_clock_reads_the_file_at_every_call(tmp_path):
    path = tmp_path / 'clock'
    path.write_text('2030-01-01T00:00:00\n')
    clock = scheduler.FileClock(str(path))
    assert clock.now() == datetime.datetime(2030, 1, 1)
    path.write_text('2030-01-01T01:30:00+01:00')
    assert clock.now() == datetime.datetime(2030, 1, 1, 0, 30)


def test_file_clock_refuses_what_is_not_a_time(tmp_path):
    path = tmp_path / 'clock'
    path.write_text('soon')
    with pytest.raises(ValueError):
        scheduler.FileClock(str(path)).now()
    with pytest.raises(FileNotFoundError):
        scheduler.FileClock(str(tmp_path / 'missing')).now()


def test_the_configured_clock(tmp_path):
    assert isinstance(scheduler.configured_clock(), scheduler.SystemClock)
    CONF.set_override('clock_file', str(tmp_path / 'clock'),
                      group='operationengine')
    try:
        assert isinstance(scheduler.configured_clock(), scheduler.FileClock)
    finally:
        CONF.clear_override('clock_file', group='operationengine')
