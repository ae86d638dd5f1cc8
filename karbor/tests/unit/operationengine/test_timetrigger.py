"""Time triggers: property checks and run-time computation."""

import datetime

from dateutil import rrule
import pytest

from karbor import exception
from karbor.services.operationengine import timetrigger

NOW = datetime.datetime(2030, 1, 1, 10, 0, 30)
FIELD = 'trigger_info/properties'


def at(*args):
    return datetime.datetime(*args)


def check(now=NOW, **properties):
    return timetrigger.check_properties(properties, now)


def trigger(**properties):
    return timetrigger.TimeTrigger(check(**properties))


def refused(field, **properties):
    with pytest.raises(exception.InvalidInput) as info:
        check(**properties)
    assert '%s/%s' % (FIELD, field) in info.value.message
    return info.value.message


# Stored properties -----------------------------------------------------

def test_defaults_are_filled_in(override):
    override('default_window', 123, group='operationengine')
    stored = check(format='crontab', pattern='  0 * * * *  ')
    assert stored == {'format': 'crontab', 'pattern': '0 * * * *',
                      'start_time': '2030-01-01T10:00:30',
                      'end_time': None, 'window': 123}


def test_times_are_stored_as_naive_utc():
    stored = check(format='crontab', pattern='0 * * * *',
                   start_time='2030-01-02T03:04:05+02:00',
                   end_time='2030-02-01 00:00:00Z')
    assert stored['start_time'] == '2030-01-02T01:04:05'
    assert stored['end_time'] == '2030-02-01T00:00:00'


@pytest.mark.parametrize('window,stored', [(60, 60), ('600', 600),
                                           (' 90 ', 90), (None, 300)])
def test_window_as_number_or_digit_string(window, stored):
    assert check(format='crontab', pattern='0 * * * *',
                 window=window)['window'] == stored


@pytest.mark.parametrize('window', ['ten', '-5', '1.5', 59, 0, True])
def test_bad_window(window):
    refused('window', format='crontab', pattern='0 * * * *', window=window)


def test_window_minimum_is_configurable(override):
    override('min_window', 5, group='operationengine')
    assert check(format='crontab', pattern='0 * * * *',
                 window=5)['window'] == 5


# Patterns ----------------------------------------------------------------

@pytest.mark.parametrize('pattern', [
    '* * * *', '* * * * * *', '61 * * * *', 'a b c d e', '*/0 * * * *',
    '@hourly', '* 24 * * *'])
def test_bad_crontab(pattern):
    refused('pattern', format='crontab', pattern=pattern)


@pytest.mark.parametrize('pattern', [
    'FREQ=FOO', 'FREQ=DAILY;BYHOUR=25', 'hello', 'FREQ=DAILY;COUNT=x',
    'BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:nothing\nEND:VEVENT\n'
    'END:VCALENDAR'])
def test_bad_calendar(pattern):
    refused('pattern', format='calendar', pattern=pattern)


def test_pattern_that_never_runs():
    message = refused('pattern', format='crontab', pattern='0 0 30 2 *')
    assert 'never runs' in message
    refused('pattern', format='calendar',
            pattern='FREQ=DAILY;UNTIL=20200101T000000')


@pytest.mark.parametrize('pattern,format', [
    ('* * * * *', 'crontab'),
    ('0-4 * * * *', 'crontab'),
    ('FREQ=MINUTELY;INTERVAL=1', 'calendar'),
    ('FREQ=SECONDLY;INTERVAL=30', 'calendar'),
])
def test_interval_below_the_minimum(override, pattern, format):
    override('min_interval', 300, group='operationengine')
    message = refused('pattern', format=format, pattern=pattern)
    assert 'minimum interval is 300 seconds' in message


def test_irregular_pattern_is_checked_over_several_runs(override):
    override('min_interval', 600, group='operationengine')
    # Two runs five minutes apart every hour: the first two coming runs
    # are an hour apart, so only looking further finds the short gap.
    refused('pattern', format='crontab', pattern='0,5 * * * *',
            start_time='2030-01-01T10:01:00')


def test_default_minimum_allows_every_minute():
    assert check(format='crontab', pattern='* * * * *')


def test_start_and_end():
    message = refused('end_time', format='crontab', pattern='0 * * * *',
                      start_time='2030-01-02T00:00:00',
                      end_time='2030-01-01T00:00:00')
    assert 'not after start_time' in message
    refused('end_time', format='crontab', pattern='0 * * * *',
            start_time='2030-01-02T00:00:00',
            end_time='2030-01-02T00:00:00')
    message = refused('end_time', format='crontab', pattern='0 12 * * *',
                      start_time='2030-01-02T00:00:00',
                      end_time='2030-01-02T06:00:00')
    assert 'first run at 2030-01-02T12:00:00' in message
    refused('start_time', format='crontab', pattern='0 * * * *',
            start_time='next tuesday')
    refused('end_time', format='crontab', pattern='0 * * * *',
            end_time='2030-13-01T00:00:00')


# Run times ---------------------------------------------------------------

def test_crontab_runs():
    hourly = trigger(format='crontab', pattern='15 * * * *')
    assert hourly.next_after(at(2030, 1, 1, 10, 0)) == at(2030, 1, 1, 10, 15)
    assert hourly.next_after(at(2030, 1, 1, 10, 15)) == at(2030, 1, 1, 11, 15)
    assert hourly.last_at_or_before(at(2030, 1, 1, 11, 15)) == at(
        2030, 1, 1, 11, 15)
    assert hourly.last_at_or_before(at(2030, 1, 1, 11, 14, 59, 999999)) == \
        at(2030, 1, 1, 10, 15)
    assert hourly.runs_after(at(2030, 1, 1, 10, 0), 3) == [
        at(2030, 1, 1, 10, 15), at(2030, 1, 1, 11, 15),
        at(2030, 1, 1, 12, 15)]


def test_crontab_within_start_and_end():
    bounded = trigger(format='crontab', pattern='0 * * * *',
                      start_time='2030-01-01T12:00:00',
                      end_time='2030-01-01T14:00:00')
    assert bounded.next_after(at(2030, 1, 1, 0, 0)) == at(2030, 1, 1, 12)
    assert bounded.next_after(at(2030, 1, 1, 13, 0)) == at(2030, 1, 1, 14)
    assert bounded.next_after(at(2030, 1, 1, 14, 0)) is None
    assert bounded.last_at_or_before(at(2030, 1, 1, 11, 59)) is None
    assert bounded.last_at_or_before(at(2030, 1, 2)) == at(2030, 1, 1, 14)


def test_calendar_rule_is_anchored_at_the_start():
    hourly = trigger(format='calendar', pattern='FREQ=HOURLY;INTERVAL=2',
                     start_time='2030-01-01T09:30:00')
    assert hourly.next_after(at(2030, 1, 1, 10)) == at(2030, 1, 1, 11, 30)
    assert hourly.last_at_or_before(at(2030, 1, 1, 11, 30)) == at(
        2030, 1, 1, 11, 30)
    assert hourly.last_at_or_before(at(2030, 1, 1, 9)) is None


def test_calendar_start_defaults_to_creation():
    hourly = trigger(format='calendar', pattern='FREQ=HOURLY;INTERVAL=1')
    assert hourly.next_after(NOW) == at(2030, 1, 1, 11, 0, 30)


def test_vcalendar_with_its_own_start_and_exceptions():
    weekly = trigger(format='calendar', pattern=(
        'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n'
        'SUMMARY:backup\r\nDTSTART:20300101T220000Z\r\n'
        'RRULE:FREQ=WEEKLY;BYDAY=TU,\r\n TH\r\n'
        'EXDATE:20300103T220000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n'))
    # 2030-01-01 is a Tuesday; Thursday the 3rd is excluded.
    assert weekly.runs_after(at(2030, 1, 1, 12), 3) == [
        at(2030, 1, 1, 22), at(2030, 1, 8, 22), at(2030, 1, 10, 22)]


def test_calendar_in_a_time_zone_runs_at_its_utc_times():
    daily = trigger(format='calendar', pattern=(
        'DTSTART;TZID=Europe/Paris:20300101T090000\nRRULE:FREQ=DAILY'))
    # 09:00 in Paris in winter is 08:00 UTC, in summer 07:00 UTC.
    assert daily.next_after(at(2030, 1, 1, 10)) == at(2030, 1, 2, 8)
    assert daily.next_after(at(2030, 7, 1, 10)) == at(2030, 7, 2, 7)


def test_calendar_until_in_utc():
    limited = trigger(format='calendar',
                      pattern='FREQ=DAILY;UNTIL=20300103T235959Z',
                      start_time='2030-01-01T06:00:00')
    assert limited.runs_after(at(2030, 1, 1), 10) == [
        at(2030, 1, 1, 6), at(2030, 1, 2, 6), at(2030, 1, 3, 6)]


def test_window_of_the_trigger():
    assert trigger(format='crontab', pattern='0 * * * *',
                   window=120).window == datetime.timedelta(seconds=120)


@pytest.mark.parametrize('pattern', [
    'FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30',
    'FREQ=MINUTELY;BYYEARDAY=100',
    'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30',
    'FREQ=MINUTELY;INTERVAL=0',
    'FREQ=DAILY;INTERVAL=0',
])
def test_calendar_rules_that_could_search_forever_are_refused(pattern):
    with pytest.raises(ValueError):
        timetrigger._Calendar(pattern, datetime.datetime(2026, 11, 28))


def test_leap_day_rule_is_accepted():
    rule = timetrigger._Calendar('FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29',
                                 datetime.datetime(2026, 11, 28))
    assert rule.after(datetime.datetime(2026, 11, 28)) == \
        datetime.datetime(2028, 2, 29)


# One 400-year cycle, the horizon and the year's margin before 9999, in
# days: the most days a search of a daily rule may step through (against
# some 2.9 million from 2030 to the year 9999).
SEARCHED_DAYS = 146097 + 4 * 366 + 2 + 366


@pytest.fixture
def daily_steps(monkeypatch):
    """Counts the periods dateutil steps through for daily rules."""
    calls = [0]
    real = rrule._iterinfo.ddayset

    def counting(self, *args):
        calls[0] += 1
        return real(self, *args)

    monkeypatch.setattr(rrule._iterinfo, 'ddayset', counting)
    return calls


@pytest.mark.parametrize('pattern,message', [
    ('FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30',
     'the RRULE FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30 never matches within '
     '4 years of its start'),
    ('FREQ=DAILY;BYMONTHDAY=31;BYMONTH=2,4,6', 'never matches within'),
    ('FREQ=DAILY;INTERVAL=7;BYDAY=MO', 'never matches within'),
    ('RRULE:FREQ=DAILY\nEXRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30',
     'the EXRULE FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30 never matches'),
    ('RRULE:FREQ=DAILY\nEXRULE:FREQ=DAILY',
     'the rule never fires within 4 years of its start'),
])
def test_an_impossible_calendar_rule_is_refused_in_bounded_steps(
        daily_steps, pattern, message):
    """dateutil would step day by day to the year 9999; the check moves
    the search to the last 400-year cycle before it."""
    assert message in refused('pattern', format='calendar', pattern=pattern)
    # A rule and an EXRULE searched at most once each to the end.
    assert 0 < daily_steps[0] <= 2 * SEARCHED_DAYS


@pytest.mark.parametrize('pattern,first', [
    ('FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', at(2032, 2, 29, 10, 0, 30)),
    ('FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=3;BYMINUTE=0;BYSECOND=0',
     at(2032, 2, 29, 3)),
    ('FREQ=DAILY;BYYEARDAY=366', at(2032, 12, 31, 10, 0, 30)),
    ('FREQ=YEARLY;BYWEEKNO=53;BYDAY=MO', at(2032, 12, 27, 10, 0, 30)),
    ('FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2,3', at(2030, 3, 31, 10, 0, 30)),
    ('FREQ=WEEKLY;INTERVAL=3;BYDAY=FR;BYSETPOS=1',
     at(2030, 1, 4, 10, 0, 30)),
    ('DTSTART;TZID=Europe/Paris:20300101T120000\n'
     'RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', at(2032, 2, 29, 11)),
    ('RRULE:FREQ=DAILY;BYDAY=SA,SU\nEXRULE:FREQ=DAILY;BYDAY=SA\n'
     'EXDATE:20300106T100030', at(2030, 1, 13, 10, 0, 30)),
])
def test_rare_calendar_rules_are_kept_and_found_where_dateutil_finds_them(
        pattern, first):
    """Leap days, week 53, a 31st only some months have: valid, and the
    moved search finds the first run dateutil finds in place."""
    stored = check(format='calendar', pattern=pattern)
    rule = timetrigger.TimeTrigger(stored)
    assert rule.next_after(NOW) == first
    calendar = rule._rule
    found = calendar._first(
        calendar.rules._rrule, calendar._in(NOW),
        calendar._in(NOW) + timetrigger._CALENDAR_HORIZON,
        calendar.rules._rdate, calendar.rules._exrule,
        calendar.rules._exdate)
    assert calendar._out(found) == first


@pytest.mark.parametrize('pattern', [
    'FREQ=YEARLY;BYEASTER=0',
    'DTSTART:99990101T000000\nRRULE:FREQ=DAILY',
    'DTSTART:18000101T000000\nRRULE:FREQ=YEARLY',
])
def test_calendar_rules_dateutil_cannot_bound_are_refused(pattern):
    refused('pattern', format='calendar', pattern=pattern)


# Rules of an old DTSTART ------------------------------------------------

# Rules whose DTSTART the computation moves forward, checked against
# dateutil stepping from their DTSTART. Periods of several units
# (INTERVAL) and BYxxx parts keep the phase of the rule; COUNT must count
# the matches moved past; UNTIL, EXRULE, RDATE, EXDATE and time zones
# apply as they did.
FORWARDED = [
    'DTSTART:20300101T001500\nRRULE:FREQ=HOURLY;INTERVAL=5',
    'DTSTART:20300101T001500\n'
    'RRULE:FREQ=HOURLY;INTERVAL=5;BYDAY=MO,WE;BYMINUTE=15,45',
    'DTSTART:20300101T001500\nRRULE:FREQ=HOURLY;INTERVAL=3;BYDAY=TU;COUNT=40',
    'DTSTART:20300101T000000\n'
    'RRULE:FREQ=HOURLY;INTERVAL=2;BYHOUR=0,6,12,18;COUNT=300',
    'DTSTART:20300101T000000\n'
    'RRULE:FREQ=MINUTELY;INTERVAL=7;BYDAY=SA;BYHOUR=3;COUNT=500',
    # Their filters repeat every hour (60 steps), and every step.
    'DTSTART:20300101T000500\nRRULE:FREQ=MINUTELY;INTERVAL=17;'
    'BYMINUTE=0,1,2,3,4,5,6,7,8,9,10;COUNT=3000',
    'DTSTART:20300101T000000\nRRULE:FREQ=SECONDLY;INTERVAL=613;COUNT=20000',
    'DTSTART:20300101T000000\nRRULE:FREQ=HOURLY;INTERVAL=4;'
    'UNTIL=20300301T000000',
    'DTSTART:20300101T000000Z\nRRULE:FREQ=HOURLY;INTERVAL=13;'
    'UNTIL=20300401T000000Z',
    'DTSTART:20300102T060000\nRRULE:FREQ=DAILY;INTERVAL=3;BYHOUR=6,18;'
    'BYSETPOS=-1',
    'DTSTART:20300101T060000\nRRULE:FREQ=DAILY;INTERVAL=2;BYMONTH=1,3;'
    'BYMONTHDAY=1,2,3,4,5,30,31',
    'DTSTART:20300101T060000\nRRULE:FREQ=DAILY;COUNT=70',
    'DTSTART:20300103T090000\nRRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,FR;'
    'WKST=SU',
    'DTSTART:20300105T090000\nRRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=9',
    'DTSTART:20300131T100000\nRRULE:FREQ=MONTHLY;BYDAY=-1FR,1MO',
    'DTSTART:20300101T080000\nRRULE:FREQ=DAILY\n'
    'EXRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=SA,SU\n'
    'RDATE:20300215T120000\nEXDATE:20300110T080000,20300301T080000',
    'DTSTART:20300101T000000\nRRULE:FREQ=HOURLY;INTERVAL=11;COUNT=100\n'
    'RRULE:FREQ=DAILY;INTERVAL=5;BYHOUR=7',
    # Across the change to summer time on 2030-03-31.
    'DTSTART;TZID=Europe/Paris:20300301T023000\nRRULE:FREQ=HOURLY;'
    'INTERVAL=7',
    'DTSTART;TZID=America/New_York:20300101T013000\nRRULE:FREQ=DAILY;'
    'INTERVAL=3;BYDAY=MO,TU,WE,TH;COUNT=30',
]
SINCE = at(2030, 1, 1)
# Monthly and yearly rules move by 400-year cycles: checked over years.
FORWARDED_BY_CYCLES = [
    ('DTSTART:19000131T100000\nRRULE:FREQ=MONTHLY;BYDAY=-1FR,1MO',
     at(2330, 1, 1), 1),
    ('DTSTART:19040229T120000\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29',
     at(2390, 1, 1), 30),
    ('DTSTART:19000101T120000\nRRULE:FREQ=YEARLY;INTERVAL=3;BYMONTH=3;'
     'BYDAY=1SU,-1FR', at(3200, 1, 1), 12),
]


def brute_force(calendar, until):
    """Every run until ``until``, stepped through by dateutil from
    DTSTART."""
    return [calendar._out(found) for found in calendar.rules.between(
        calendar._in(at(1900, 1, 1)), calendar._in(until), inc=True)]


def moments(runs, since, until):
    """Moments spread from ``since`` to ``until`` (but its last sixth),
    and each run and a second either side of it."""
    spread = [since + n * (until - since) / 100 for n in range(100)]
    second = datetime.timedelta(seconds=1)
    runs = [run for run in runs if run >= since]
    near = [run + delta for run in runs[:: max(1, len(runs) // 30)]
            for delta in (-second, datetime.timedelta(0), second)]
    return [moment for moment in spread + near
            if since <= moment <= until - (until - since) / 6]


@pytest.mark.parametrize('pattern,since,years', [
    (pattern, SINCE, 0.5) for pattern in FORWARDED] + FORWARDED_BY_CYCLES)
def test_moved_rules_run_when_dateutil_says(pattern, since, years):
    calendar = timetrigger._Calendar(pattern, since)
    until = since + datetime.timedelta(days=365 * years)
    runs = brute_force(calendar, until)
    assert len([run for run in runs if run >= since]) > 3
    for moment in moments(runs, since, until):
        later = [run for run in runs if run > moment]
        earlier = [run for run in runs if run <= moment]
        expected_after = later[0] if later else calendar._out(
            calendar.rules.after(calendar._in(moment)))
        assert calendar.after(moment) == expected_after, moment
        assert calendar.at_or_before(moment) == (
            earlier[-1] if earlier else None), moment


@pytest.mark.parametrize('pattern', FORWARDED + ['0 */5 * * 1-5'])
def test_runs_after_are_the_next_runs_one_after_another(pattern):
    """One search for several runs finds what as many searches find."""
    rule = timetrigger.TimeTrigger({
        'format': 'calendar' if '=' in pattern else 'crontab',
        'pattern': pattern, 'start_time': '2030-01-02T10:00:00',
        'end_time': '2030-01-20T00:00:00', 'window': 300})
    for moment in (at(2030, 1, 1), at(2030, 1, 9, 13, 7), at(2030, 1, 19)):
        one_by_one = []
        found = rule.next_after(moment)
        while found is not None and len(one_by_one) < 12:
            one_by_one.append(found)
            found = rule.next_after(found)
        assert rule.runs_after(moment, 12) == one_by_one


@pytest.mark.parametrize('pattern,moment,moved,count', [
    ('DTSTART:20300101T001500\nRRULE:FREQ=HOURLY;INTERVAL=5',
     at(2030, 6, 1), at(2030, 5, 31, 20, 15), None),
    # Its matches repeat every week: Tuesday's 00:15, 03:15 ... 21:15.
    # Four weeks of 8 leave 8 to count.
    ('DTSTART:20300101T001500\nRRULE:FREQ=HOURLY;INTERVAL=3;BYDAY=TU;'
     'COUNT=40', at(2030, 6, 1), at(2030, 1, 29, 0, 15), 8),
    # Moved to its ninth and last match.
    ('DTSTART:20300105T090000\nRRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=9',
     at(2030, 6, 1), at(2030, 4, 27, 9), 1),
    # Every step matches once: moved to the last step before the moment.
    ('DTSTART:19000101T000000\nRRULE:FREQ=SECONDLY;INTERVAL=61;'
     'COUNT=100000000', at(2030, 6, 1), at(2030, 5, 31, 23, 59, 8),
     100000000 - 67467068),
    ('DTSTART:19000131T100000\nRRULE:FREQ=MONTHLY;BYDAY=-1FR',
     at(2301, 1, 1), at(2300, 1, 31, 10), None),
    # Not moved: counting its matches would step through 400 years.
    ('DTSTART:19000131T100000\nRRULE:FREQ=DAILY;BYMONTH=2;COUNT=9000',
     at(2301, 1, 1), at(1900, 1, 31, 10), 9000),
])
def test_a_rule_moves_by_whole_periods_and_counts_what_it_passed(
        pattern, moment, moved, count):
    (rule,) = timetrigger._Calendar(pattern, SINCE).rules._rrule
    forwarded = timetrigger._forward(rule, moment)
    assert forwarded._dtstart == moved
    assert forwarded._count == count


# How many days a computation on the hourly rule below steps through: a
# few days to the first run and to the latest, and some for each search
# in the last 400-year cycle before the year 9999 (see the test above);
# dateutil from its DTSTART steps through over 45,000.
OLD_RULE_STEPS = 1000


@pytest.mark.parametrize('pattern', [
    'DTSTART:19000101T000000\nRRULE:FREQ=HOURLY',
    'DTSTART:19000101T001500\nRRULE:FREQ=HOURLY;INTERVAL=7;BYDAY=MO,TH;'
    'COUNT=5000000',
    'DTSTART:19000101T000000\nRRULE:FREQ=MINUTELY;INTERVAL=7\n'
    'EXRULE:FREQ=HOURLY;BYHOUR=3;BYMINUTE=0,1,2,3,4,5,6,7,8,9,10',
])
def test_an_old_dtstart_is_not_stepped_through(daily_steps, pattern):
    stored = check(format='calendar', pattern=pattern)
    rule = timetrigger.TimeTrigger(stored)
    assert rule.next_after(NOW) > NOW
    assert rule.last_at_or_before(NOW + datetime.timedelta(days=30)) > NOW
    assert daily_steps[0] <= OLD_RULE_STEPS


# Stored triggers this version refuses -----------------------------------

class Stored(object):
    """A stored trigger: what of_stored reads of a Trigger object."""

    def __init__(self, **properties):
        self.id = 'T'
        self.properties = dict({'format': 'calendar', 'window': 300,
                                'start_time': '2030-01-01T00:00:00',
                                'end_time': None}, **properties)


@pytest.mark.parametrize('properties,reason', [
    ({'pattern': 'FREQ=YEARLY;BYEASTER=0'}, 'BYEASTER is not supported'),
    ({'pattern': 'FREQ=DAILY', 'start_time': '1850-01-01T00:00:00'},
     'must be within the years 1900 to 9000'),
    ({'pattern': 'FREQ=DAILY', 'format': 'ical'}, "unknown format 'ical'"),
    ({'format': 'crontab'}, 'no pattern property'),
])
def test_a_stored_trigger_refused_now_says_why(properties, reason):
    with pytest.raises(exception.TriggerRefused) as info:
        timetrigger.of_stored(Stored(**properties))
    assert info.value.message == (
        'Trigger T has properties this version no longer accepts (%s); '
        'update its properties for its scheduled operations to run.' %
        reason)


def test_a_stored_trigger_still_accepted():
    trigger = timetrigger.of_stored(Stored(pattern='FREQ=DAILY'))
    assert trigger.next_after(at(2030, 1, 1)) == at(2030, 1, 2)


@pytest.mark.parametrize('pattern,accepted', [
    # Matches that repeat every step, day or week are counted ahead.
    ('DTSTART:19000101T000000\nRRULE:FREQ=SECONDLY;INTERVAL=61;'
     'COUNT=100000000', True),
    ('DTSTART:19000101T001500\nRRULE:FREQ=HOURLY;BYDAY=MO;COUNT=1000000',
     True),
    # A week of 61-second steps repeats only after 61 weeks.
    ('DTSTART:19000101T000000\nRRULE:FREQ=SECONDLY;INTERVAL=61;BYDAY=MO;'
     'COUNT=100000000', False),
    ('FREQ=MONTHLY;COUNT=200001', False),
    ('FREQ=MONTHLY;COUNT=200000', True),
])
def test_a_large_count_must_be_counted_ahead(pattern, accepted):
    if accepted:
        assert check(format='calendar', pattern=pattern)
    else:
        assert 'COUNT may be at most 200000' in refused(
            'pattern', format='calendar', pattern=pattern)
