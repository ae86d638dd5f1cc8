"""The scheduler's decision about a due operation (no database)."""

import datetime

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


def test_trigger_gone():
    following, runs = scheduler.due_runs(None, DUE, DUE + SECOND)
    assert following is None
    assert [(due, status) for due, status, _ in runs] == [(DUE, 'failed')]


def test_system_clock_is_naive_utc():
    now = scheduler.SystemClock().now()
    assert now.tzinfo is None
    utc = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert abs(utc - now) < datetime.timedelta(seconds=5)
