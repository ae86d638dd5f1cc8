"""Time triggers: checking their properties and computing their run times.

A time trigger's properties:

``format``
    ``crontab``: ``pattern`` is a five-field crontab line (minute, hour,
    day of month, month, day of week), read by croniter.
    ``calendar``: ``pattern`` is an iCalendar recurrence read by
    python-dateutil: a bare RRULE value (``FREQ=HOURLY;INTERVAL=2``), or
    DTSTART/RRULE/RDATE/EXRULE/EXDATE lines, bare or inside a
    VCALENDAR/VEVENT (whose other lines are ignored).
``start_time``, ``end_time``
    ISO 8601; no run before the start or after the end. The start
    defaults to the trigger's creation and anchors a calendar rule that
    has no DTSTART of its own (``FREQ=HOURLY`` runs on the minute and
    second of the start).
``window``
    Seconds after its due time that a run may still start; a run that
    could not start by then is skipped (and the skip recorded). At
    least [operationengine] min_window, at most a year (MAX_WINDOW).

Every time here is a naive datetime in UTC, as the database keeps them;
crontab patterns are read in UTC.
"""

import datetime
import math
import re

import croniter
from dateutil import rrule

from karbor.conf import CONF
from karbor.db import models
from karbor import exception

CRONTAB = 'crontab'
CALENDAR = 'calendar'
FORMATS = (CRONTAB, CALENDAR)

# How many coming runs the minimum-interval check looks at.
SAMPLE_RUNS = 10
# The years a start or end time may fall in.
YEARS = (1900, 9000)
# The largest window, in seconds (a year).
MAX_WINDOW = 366 * 24 * 3600

_CALENDAR_NAMES = ('DTSTART', 'RRULE', 'RDATE', 'EXRULE', 'EXDATE')
# A rule with a UTC or zoned time makes dateutil work with aware times.
_AWARE = re.compile(r'TZID=|\d{8}T\d{6}Z', re.IGNORECASE)
_ONE_US = datetime.timedelta(microseconds=1)
_UTC = datetime.timezone.utc


class _Crontab(object):

    def __init__(self, pattern):
        fields = pattern.split()
        if len(fields) != 5:
            raise ValueError('a crontab pattern has five fields (minute, '
                             'hour, day of month, month, day of week), not '
                             '%d' % len(fields))
        self.pattern = ' '.join(fields)
        try:
            croniter.croniter(self.pattern, datetime.datetime(2000, 1, 1))
        except (croniter.CroniterError, ValueError, TypeError,
                KeyError) as exc:
            raise ValueError(str(exc))

    def after(self, moment):
        try:
            return croniter.croniter(self.pattern, moment).get_next(
                datetime.datetime)
        except croniter.CroniterBadDateError:
            return None

    def runs_after(self, moment):
        found = self.after(moment)
        while found is not None:
            yield found
            found = self.after(found)

    def at_or_before(self, moment):
        # croniter's get_prev is strictly before its start.
        try:
            return croniter.croniter(self.pattern, moment + _ONE_US).get_prev(
                datetime.datetime)
        except croniter.CroniterBadDateError:
            return None


def _calendar_text(pattern):
    """The recurrence lines of ``pattern``, for dateutil's rrulestr."""
    text = pattern.replace('\r\n', '\n').replace('\r', '\n').strip()
    # A line starting with white space continues the one before (RFC 5545
    # folding).
    text = re.sub(r'\n[ \t]', '', text)
    if ':' not in text:
        return text
    kept = []
    for line in text.split('\n'):
        name = re.split(r'[:;]', line.strip(), maxsplit=1)[0].upper()
        if name in _CALENDAR_NAMES:
            kept.append(line.strip())
    if not any(line.upper().startswith(('RRULE', 'RDATE'))
               for line in kept):
        raise ValueError('no RRULE or RDATE in the calendar')
    return '\n'.join(kept)


# Filters that can make a sub-daily rule match rarely or never, so that
# dateutil steps through millions of hours or minutes looking for one.
_DATE_FILTERS = ('_bymonth', '_bymonthday', '_bynmonthday', '_byyearday',
                 '_byweekno', '_bysetpos')
# How far after its start a calendar rule must first match (four years and
# a bit: every leap day falls within it).
_CALENDAR_HORIZON = datetime.timedelta(days=4 * 366 + 2)
HORIZON_YEARS = 4
# The Gregorian calendar repeats itself every 400 years, weekdays included
# (146097 days are 20871 weeks): a rule moved by whole cycles matches on
# the same dates, moved likewise.
_CYCLE = datetime.timedelta(days=146097)
# Where the probes' moved horizons end at the latest: dateutil's search
# stops at the end of the year 9999; a year's margin keeps zoned times
# clear of it.
_PROBE_END = datetime.datetime(9999, 1, 1)


def _moved(rule, shift, end):
    """``rule`` moved by ``shift``; an UNTIL after ``end`` (which it no
    longer limits) is dropped rather than moved past the year 9999."""
    until = rule._until
    if until is not None:
        until = until + shift if until <= end else None
    return rule.replace(dtstart=rule._dtstart + shift, until=until)


# The length of a rule's period, for the frequencies whose periods are all
# alike. Months and years are not: those rules move by 400-year cycles.
_PERIODS = {rrule.WEEKLY: datetime.timedelta(weeks=1),
            rrule.DAILY: datetime.timedelta(days=1),
            rrule.HOURLY: datetime.timedelta(hours=1),
            rrule.MINUTELY: datetime.timedelta(minutes=1),
            rrule.SECONDLY: datetime.timedelta(seconds=1)}
# Filters by date other than by weekday: a rule using one repeats its
# pattern of matches only with the calendar, every 400 years.
_CALENDAR_FILTERS = ('_bymonth', '_bymonthday', '_bynmonthday',
                     '_byyearday', '_byweekno', '_bynweekday')
# The most steps, and matches, a COUNT rule is stepped through to count
# its matches over the span its pattern repeats in (see
# _forward_counted): a few tenths of a second.
_COUNTED_STEPS = 700000
_COUNTED_MATCHES = 50000
# The largest COUNT of a rule whose matches cannot be counted that way:
# dateutil steps through up to that many from DTSTART.
COUNT_LIMIT = 200000
# How far before a moment at_or_before looks for a run with moved rules,
# widening the search each time it finds none (the last is 179 years).
_LOOK_BACKS = [datetime.timedelta(days=16 ** n) for n in range(5)]
# Local time is at most this far from what a moment's UTC offset says:
# the whole-period count of a zoned rule is taken this much short.
_ZONE_MARGIN = datetime.timedelta(days=1)


def _step(rule):
    """How far the rule's DTSTART may move at a time and the rule match
    as it did, moved by as much: INTERVAL periods of a fixed length, or
    INTERVAL 400-year cycles (whole months and years) for the others."""
    period = _PERIODS.get(rule._freq, _CYCLE)
    return period * rule._interval


def _steps_before(rule, moment, step):
    """How many times ``step`` the rule's DTSTART may move by and stay at
    or before ``moment`` (0 when it cannot move)."""
    start = rule._dtstart
    if (start.tzinfo is None) != (moment.tzinfo is None):
        return 0
    if start.tzinfo is None:
        gap = moment - start
    else:
        # dateutil steps through local wall times: so does the count.
        gap = (moment.astimezone(start.tzinfo).replace(tzinfo=None) -
               start.replace(tzinfo=None) - _ZONE_MARGIN)
    steps = max(0, gap // step)
    while steps and start + step * steps > moment:
        steps -= 1
    return steps


def _forward(rule, moment):
    """``rule`` with its DTSTART moved forward to at or before ``moment``,
    so that dateutil need not step from an old DTSTART to there.

    The result matches exactly where ``rule`` does from its own DTSTART
    on. It moves by whole steps (_step): the periods dateutil steps
    through fall where they did, the same BYxxx parts filter them (those
    dateutil derives from DTSTART, such as the weekday of a weekly rule,
    come out the same) and each period's matches (BYSETPOS included)
    stay the same; only those before the new DTSTART are left out. A
    COUNT rule must also drop the matches it moved past from its count:
    see _forward_counted.
    """
    until = rule._until
    if until is not None and (until.tzinfo is None) == (
            moment.tzinfo is None):
        # Moved no further than its end, a rule that ended finds its last
        # match there.
        moment = min(moment, until)
    step = _step(rule)
    steps = _steps_before(rule, moment, step)
    if not steps:
        return rule
    if rule._count is not None:
        return _forward_counted(rule, steps, step)
    return rule.replace(dtstart=rule._dtstart + step * steps)


def _filtered_span(rule):
    """The calendar span after which the periods the rule's filters let
    through come round again: 400 years with a filter by date, a week by
    weekday (of a daily or faster rule), a day by hour (of an hourly or
    faster one), an hour by minute, a minute by second; None when every
    period is let through alike (the BYxxx parts finer than the period
    only pick moments within each)."""
    if any(getattr(rule, name) for name in _CALENDAR_FILTERS):
        return _CYCLE
    for freq, name, span in (
            (rrule.DAILY, '_byweekday', datetime.timedelta(weeks=1)),
            (rrule.HOURLY, '_byhour', datetime.timedelta(days=1)),
            (rrule.MINUTELY, '_byminute', datetime.timedelta(hours=1)),
            (rrule.SECONDLY, '_bysecond', datetime.timedelta(minutes=1))):
        # dateutil's frequencies count up from YEARLY (0) to SECONDLY.
        if rule._freq >= freq and getattr(rule, name):
            return span
    return None


def _counted_span(rule, step, most_steps=_COUNTED_STEPS):
    """``(steps, matches)``: how many steps the pattern of the rule's
    matches repeats over, and how many matches one such span holds from
    DTSTART; None if there are more than ``most_steps`` steps or too many
    matches to count quickly."""
    if rule._freq not in _PERIODS:
        return None
    span = _filtered_span(rule)
    steps = 1
    if span is not None:
        step_s = int(step.total_seconds())
        steps = math.lcm(step_s, int(span.total_seconds())) // step_s
    if steps > min(most_steps, _COUNTED_STEPS):
        return None
    end = rule._dtstart + step * steps
    matches = 0
    for moment in rule.replace(count=None, until=None):
        if moment >= end:
            break
        matches += 1
        if matches > _COUNTED_MATCHES:
            return None
    return steps, matches


def _forward_counted(rule, steps, step):
    """A COUNT rule moved by up to ``steps`` times ``step``, its count
    lowered by the matches moved past (exact, or not moved at all).

    A rule matches the same way again after a whole number of steps that
    is also a whole number of the calendar span its filters depend on
    (_filtered_span): the matches of one such span are counted, and every
    span moved past holds as many. Only fixed periods (weekly and faster)
    are moved, and only when counting a span is cheap (_counted_span).
    Monthly and yearly rules step from their DTSTART, a few thousand
    periods at most within the years allowed; the others that cannot be
    moved are stepped through up to COUNT_LIMIT matches from DTSTART
    (_check_bounded refuses a larger COUNT).
    """
    # Counting a span is worth it only to move past one at least.
    counted = _counted_span(rule, step, most_steps=steps)
    if counted is None or not counted[1]:
        return rule
    span_steps, per_span = counted
    spans = steps // span_steps
    # At least one match must be left to count down to.
    spans = min(spans, (rule._count - 1) // per_span)
    if spans < 1:
        return rule
    return rule.replace(dtstart=rule._dtstart + step * span_steps * spans,
                        count=rule._count - per_span * spans)


def _forwarded_set(rules, exrules, rdates, exdates, moment):
    """The set of ``rules`` (with ``rdates``, minus ``exrules`` and
    ``exdates``), its rules moved forward to ``moment`` (_forward); and
    the latest DTSTART of a moved rule: the set is exact from there on."""
    found = rrule.rruleset()
    exact_from = None
    for add, group in ((found.rrule, rules), (found.exrule, exrules)):
        for rule in group:
            moved = _forward(rule, moment)
            add(moved)
            if moved is not rule and (exact_from is None or
                                      moved._dtstart > exact_from):
                exact_from = moved._dtstart
    for moment_ in rdates:
        found.rdate(moment_)
    for moment_ in exdates:
        found.exdate(moment_)
    return found, exact_from


class _Calendar(object):

    def __init__(self, pattern, anchor):
        text = _calendar_text(pattern)
        self.aware = bool(_AWARE.search(text))
        if self.aware:
            anchor = anchor.replace(tzinfo=_UTC)
        try:
            self.rules = rrule.rrulestr(text, dtstart=anchor, forceset=True)
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            raise ValueError(str(exc) or 'not an iCalendar recurrence')
        self._check_bounded(anchor)

    def _shift(self, end):
        """Whole cycles that move ``end`` as close as may be to
        _PROBE_END."""
        last = _PROBE_END.replace(tzinfo=end.tzinfo and _UTC)
        return _CYCLE * max(0, (last - end) // _CYCLE)

    def _first(self, rules, start, end, rdates=(), exrules=(), exdates=()):
        """The first occurrence of the set of ``rules`` (with ``rdates``,
        minus ``exrules`` and ``exdates``) from ``start`` to ``end``, or
        None.

        dateutil searches a rule that stops matching up to the year 9999
        whatever its UNTIL: the search here is run on the set moved by
        whole 400-year cycles to end within the last cycle before that
        year, so it steps through at most a cycle and the horizon of the
        rules' periods (about 150,000 for a daily rule, not the three
        million to the year 9999). Its rules are moved forward to
        ``start`` (_forward): those of an old DTSTART are not stepped
        through from there.
        """
        shift = self._shift(end)
        probe, _ = _forwarded_set(
            [_moved(rule, shift, end) for rule in rules
             if rule._dtstart <= end],
            [_moved(rule, shift, end) for rule in exrules
             if rule._dtstart <= end],
            [moment + shift for moment in rdates if moment <= end],
            [moment + shift for moment in exdates if moment <= end],
            start + shift)
        found = probe.after(start + shift, inc=True)
        if found is None or found > end + shift:
            return None
        return found - shift

    def _check_bounded(self, anchor):
        """Refuse rules dateutil could search for seconds or minutes.

        dateutil steps through a rule one period at a time until it finds
        a match or reaches the year 9999 (UNTIL only stops it at a match):
        an impossible rule such as FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30
        holds a CPU for seconds on every evaluation (an hourly one for
        minutes), and so would a set whose EXRULE removes every match.
        Sub-daily rules may therefore only filter by weekday and time of
        day (they match within a week); every RRULE and EXRULE must match
        within HORIZON_YEARS of its start, and the set must fire within
        HORIZON_YEARS of the trigger's start, so that impossible rules are
        refused once, at validation, instead of searched at every run.
        Each of these checks is itself bounded (see _first).
        """
        # dateutil exposes no accessors for a set's rules; these
        # attributes have been stable since dateutil 2.0.
        for rule in self.rules._rrule + self.rules._exrule:
            if rule._interval < 1:
                # dateutil would step by nothing, forever.
                raise ValueError('INTERVAL must be at least 1')
            if rule._byeaster:
                # Not iCalendar (a dateutil extension), and Easter does
                # not come back every 400 years as the calendar does.
                raise ValueError('BYEASTER is not supported')
            if rule._freq > rrule.DAILY and any(
                    getattr(rule, name) for name in _DATE_FILTERS):
                raise ValueError(
                    'hourly, minutely and secondly rules may filter by '
                    'weekday, hour, minute and second only; use a daily or '
                    'slower rule for month, day-of-month, year-day and '
                    'week-number filters')
        for kind, rules in (('RRULE', self.rules._rrule),
                            ('EXRULE', self.rules._exrule)):
            for rule in rules:
                if not YEARS[0] <= rule._dtstart.year <= YEARS[1]:
                    # As start_time: clear of datetime's limits.
                    raise ValueError('DTSTART must be within the years %d '
                                     'to %d' % YEARS)
                # The rule's pattern, whatever its COUNT and UNTIL: one
                # that matched once only (UNTIL) is searched past it.
                start = rule._dtstart
                pattern = rule.replace(count=None, until=None)
                if self._first([pattern], start,
                               start + _CALENDAR_HORIZON) is None:
                    raise ValueError(
                        'the %s %s never matches within %d years of its '
                        'start' % (kind, _rule_text(rule), HORIZON_YEARS))
                if (rule._count is not None and rule._count > COUNT_LIMIT and
                        _counted_span(rule, _step(rule)) is None):
                    # Never moved forward (_forward_counted): each
                    # computation would step through it from DTSTART.
                    raise ValueError(
                        'COUNT may be at most %d for a rule whose runs '
                        'cannot be counted ahead (a monthly or yearly rule, '
                        'or one whose runs repeat only over a long span); '
                        'use UNTIL instead' % COUNT_LIMIT)
        if self._first(self.rules._rrule, anchor,
                       anchor + _CALENDAR_HORIZON, self.rules._rdate,
                       self.rules._exrule, self.rules._exdate) is None:
            raise ValueError('the rule never fires within %d years of its '
                             'start' % HORIZON_YEARS)

    def _in(self, moment):
        return moment.replace(tzinfo=_UTC) if self.aware else moment

    def _out(self, found):
        if found is not None and found.tzinfo is not None:
            found = found.astimezone(_UTC).replace(tzinfo=None)
        return found

    def _forwarded(self, moment):
        return _forwarded_set(self.rules._rrule, self.rules._exrule,
                              self.rules._rdate, self.rules._exdate, moment)

    def after(self, moment):
        moment = self._in(moment)
        probe, _ = self._forwarded(moment)
        return self._out(probe.after(moment))

    def runs_after(self, moment):
        """The runs after ``moment``, in order, from a single search (a
        rule that cannot be moved is stepped through once, not once per
        run)."""
        moment = self._in(moment)
        probe, _ = self._forwarded(moment)
        for found in probe.xafter(moment):
            yield self._out(found)

    def at_or_before(self, moment):
        """The latest run at or before ``moment``: looked for from a day
        before it, then 16 days, and so on, as long as none is found where
        the moved rules are exact; at last without moving them."""
        moment = self._in(moment)
        for look_back in _LOOK_BACKS:
            probe, exact_from = self._forwarded(moment - look_back)
            if exact_from is None:
                break
            found = probe.before(moment, inc=True)
            if found is not None and found >= exact_from:
                return self._out(found)
        return self._out(self.rules.before(moment, inc=True))


def _rule_text(rule):
    # str(rule) is "DTSTART:...\nRRULE:...": the RRULE part names it.
    return str(rule).rpartition('\n')[2].partition(':')[2]


def parse_time(value):
    """A naive UTC datetime from ISO 8601 text; ValueError if it is not."""
    if not isinstance(value, str):
        raise ValueError('must be an ISO 8601 date and time')
    try:
        parsed = models.parse_time(value.strip())
    except (ValueError, OverflowError):
        # OverflowError: an offset moving it out of years 1-9999 in UTC.
        raise ValueError('must be an ISO 8601 date and time, such as '
                         '2030-01-31T22:00:00Z')
    if not YEARS[0] <= parsed.year <= YEARS[1]:
        # Run times are computed (and windows added) past the end: keep
        # them far from datetime's limits.
        raise ValueError('must be within the years %d to %d' % YEARS)
    return parsed


def format_time(value):
    return value.isoformat(timespec='seconds')


class TimeTrigger(object):
    """Run times of a trigger's stored (already checked) properties."""

    def __init__(self, properties):
        self.format = properties['format']
        self.pattern = properties['pattern']
        self.start = parse_time(properties['start_time'])
        self.end = (parse_time(properties['end_time'])
                    if properties.get('end_time') else None)
        self.window = datetime.timedelta(
            seconds=int(properties.get('window',
                                       CONF.operationengine.default_window)))
        if self.format == CRONTAB:
            self._rule = _Crontab(self.pattern)
        elif self.format == CALENDAR:
            self._rule = _Calendar(self.pattern, self.start)
        else:
            raise ValueError('unknown format %r' % self.format)

    def next_after(self, moment):
        """The first run strictly after ``moment``; None if none is left."""
        found = self._rule.after(max(moment, self.start - _ONE_US))
        if found is None or (self.end is not None and found > self.end):
            return None
        return found

    def last_at_or_before(self, moment):
        """The latest run at or before ``moment``; None if none was."""
        if self.end is not None:
            moment = min(moment, self.end)
        found = self._rule.at_or_before(moment)
        if found is None or found < self.start:
            return None
        return found

    def runs_after(self, moment, count):
        """Up to ``count`` runs after ``moment``, in order."""
        runs = []
        for found in self._rule.runs_after(max(moment,
                                               self.start - _ONE_US)):
            if len(runs) == count or (self.end is not None and
                                      found > self.end):
                break
            runs.append(found)
        return runs


def of_stored(trigger):
    """The TimeTrigger of a stored Trigger object.

    Raises TriggerRefused (409) if its properties, stored by an earlier
    version, no longer pass the checks (an impossible rule, BYEASTER, a
    DTSTART or start time out of the years allowed): no run time can be
    computed for it until they are updated.
    """
    try:
        return TimeTrigger(trigger.properties)
    except KeyError as exc:
        reason = 'no %s property' % exc.args[0]
    except (ValueError, TypeError) as exc:
        reason = str(exc) or type(exc).__name__
    raise exception.TriggerRefused(trigger_id=trigger.id, reason=reason)


def _window(value, field):
    if value is None:
        return CONF.operationengine.default_window
    if isinstance(value, bool):
        raise exception.InvalidInput(field=field,
                                     reason='must be a number of seconds')
    if isinstance(value, str):
        if not (value.strip().isascii() and value.strip().isdigit()):
            raise exception.InvalidInput(
                field=field, reason='must be a whole number of seconds')
        value = int(value.strip())
    minimum = CONF.operationengine.min_window
    if value < minimum:
        raise exception.InvalidInput(
            field=field, reason='must be at least %d seconds (the '
                                'configured minimum window)' % minimum)
    if value > MAX_WINDOW:
        # Larger ones overflow a timedelta (or a datetime) when used.
        raise exception.InvalidInput(
            field=field, reason='must be at most %d seconds' % MAX_WINDOW)
    return value


def check_properties(properties, now, field='trigger_info/properties'):
    """Check a time trigger's properties; return them as they are stored.

    ``properties`` has passed the request schema (format and pattern are
    present). Raises InvalidInput (400) naming the faulty field: a
    pattern that does not parse, never runs, or runs more often than
    ``[operationengine] min_interval``; a start or end that is not ISO
    8601; an end not after the start or before the first run; a bad
    window.
    """
    def where(name):
        return '%s/%s' % (field, name)

    times = {}
    for name in ('start_time', 'end_time'):
        value = properties.get(name)
        if value in (None, ''):
            times[name] = None
            continue
        try:
            times[name] = parse_time(value).replace(microsecond=0)
        except ValueError as exc:
            raise exception.InvalidInput(field=where(name), reason=str(exc))
    start = times['start_time'] or now.replace(microsecond=0)
    end = times['end_time']
    if end is not None and end <= start:
        raise exception.InvalidInput(
            field=where('end_time'),
            reason='%s is not after start_time %s' % (format_time(end),
                                                      format_time(start)))
    stored = {'format': properties['format'],
              'pattern': properties['pattern'].strip(),
              'start_time': format_time(start),
              'end_time': format_time(end) if end is not None else None,
              'window': _window(properties.get('window'), where('window'))}

    try:
        trigger = TimeTrigger(stored)
    except ValueError as exc:
        raise exception.InvalidInput(
            field=where('pattern'),
            reason='not a valid %s pattern: %s' % (stored['format'], exc))

    since = max(now, trigger.start - _ONE_US)
    runs = trigger.runs_after(since, SAMPLE_RUNS)
    if not runs:
        unbounded = TimeTrigger(dict(stored, end_time=None))
        first = unbounded.next_after(since)
        if first is not None:
            raise exception.InvalidInput(
                field=where('end_time'),
                reason='the trigger ends before its first run at %s' %
                       format_time(first))
        raise exception.InvalidInput(
            field=where('pattern'), reason='the pattern never runs after %s'
                                           % format_time(since))
    minimum = CONF.operationengine.min_interval
    for earlier, later in zip(runs, runs[1:]):
        gap = (later - earlier).total_seconds()
        if gap < minimum:
            raise exception.InvalidInput(
                field=where('pattern'),
                reason='runs %s and %s are %d seconds apart; the minimum '
                       'interval is %d seconds' % (
                           format_time(earlier), format_time(later), gap,
                           minimum))
    return stored


def check_runs_every(properties, days, now, field, what):
    """InvalidInput (400) naming ``field`` unless the trigger of stored
    ``properties`` runs at least once every ``days`` days: a verify cycle
    of that many days could not be read in time otherwise. ``what``
    names the operation or trigger concerned in the message."""
    length = datetime.timedelta(days=days)
    runs = TimeTrigger(properties).runs_after(now, SAMPLE_RUNS)
    for earlier, later in zip(runs, runs[1:]):
        if later - earlier > length:
            raise exception.InvalidInput(
                field=field,
                reason='%s: the trigger runs at %s and next at %s, more '
                       'than %d day(s) apart, and must run at least once '
                       'every cycle_days days' % (
                           what, format_time(earlier), format_time(later),
                           days))
