"""The arithmetic of verify cycles: which offsets a run reads."""

import datetime
import types

from karbor.objects import verify_cycle
from karbor.objects.verify_cycle import SPACE

START = datetime.datetime(2026, 1, 1)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def latest(number, read_to, days=3):
    return types.SimpleNamespace(
        number=number, read_to=read_to,
        started_at=START + number * datetime.timedelta(days=days))


def spans(scope):
    return [(p['cycle'], p['from'], p['to']) for p in scope['parts']]


def test_the_first_run_reads_what_falls_due_before_the_next():
    scope = verify_cycle.plan_run(None, 3, START, START + 6 * HOUR)
    assert spans(scope) == [(0, 0, SPACE // 12 + 1)]
    assert (scope['after'], scope['to']) == (0, SPACE // 12 + 1)
    assert scope['anchor'] == START.isoformat()


def test_runs_at_a_steady_pace_sweep_each_offset_once():
    position, seen = None, []
    for step in range(36):
        due = START + step * 6 * HOUR
        scope = verify_cycle.plan_run(position, 3, due, due + 6 * HOUR)
        seen.extend(spans(scope))
        end = scope['to']
        position = latest(end // SPACE, end % SPACE) if end % SPACE else \
            latest(end // SPACE - 1, SPACE)
    for cycle in range(3):
        mine = sorted((f, t) for c, f, t in seen if c == cycle)
        assert mine[0][0] == 0 and mine[-1][1] == SPACE
        assert all(a[1] == b[0] for a, b in zip(mine, mine[1:]))


def test_a_run_crossing_the_end_of_a_cycle_reads_two_parts():
    # Runs every 7 hours do not divide three days: the sweep crosses a
    # cycle's end inside a run.
    position = latest(0, SPACE - 100)
    due = START + 3 * DAY - HOUR
    scope = verify_cycle.plan_run(position, 3, due, due + 7 * HOUR)
    (first, second) = spans(scope)
    assert first == (0, SPACE - 100, SPACE)
    assert second[:2] == (1, 0) and 0 < second[2] < SPACE // 10


def test_missed_runs_are_made_up_by_the_next():
    position = latest(0, SPACE // 12)
    # The runs due at +6 h .. +30 h were missed; the one at +36 h reads
    # up to what falls due at +42 h.
    due = START + 36 * HOUR
    scope = verify_cycle.plan_run(position, 3, due, due + 6 * HOUR)
    assert spans(scope) == [(0, SPACE // 12, 7 * SPACE // 12 + 1)]


def test_an_outage_longer_than_a_cycle_reads_one_cycle_s_worth():
    position = latest(0, SPACE // 2)
    due = START + 10 * DAY
    scope = verify_cycle.plan_run(position, 3, due, due + DAY)
    total = sum(t - f for _, f, t in spans(scope))
    assert total == SPACE
    assert scope['after'] == SPACE // 2
    # Due by +11 days: two thirds into cycle 3. Cycle 2 is read from where
    # cycle 3 will stop, cycles 0 (its second half) and 1 not at all.
    (end_of_2, start_of_3) = spans(scope)
    assert end_of_2[0] == 2 and end_of_2[2] == SPACE
    assert start_of_3[:2] == (3, 0) and start_of_3[2] == end_of_2[1]


def test_a_trigger_without_a_next_run_reads_to_the_end_of_the_cycle():
    scope = verify_cycle.plan_run(latest(1, 5), 3, START + 4 * DAY, None)
    assert spans(scope) == [(1, 5, SPACE)]


def test_nothing_due_reads_nothing():
    # The previous run read ahead; this one has nothing new.
    position = latest(0, SPACE // 2)
    scope = verify_cycle.plan_run(position, 3, START + HOUR, START + 2 * HOUR)
    assert spans(scope) == []
    assert scope['to'] == scope['after'] == SPACE // 2


def test_offset_is_the_first_32_bits_of_the_id():
    assert verify_cycle.offset('00000000' + 'f' * 56) == 0
    assert verify_cycle.offset('ffffffff' + '0' * 56) == SPACE - 1


def _result(parts, chunks=40, left=30, read=10, damaged=0):
    return dict(parts=parts, result={
        'chunks': chunks, 'chunks_left': left, 'checkpoints_skipped': [],
        'parts': [{'chunks_read': read, 'chunks_damaged': damaged}
                  for _ in parts]})


def test_a_run_is_added_to_its_cycle_once(db, admin_context):
    operation = types.SimpleNamespace(id='op-1', project_id='demo')
    scope = verify_cycle.plan_run(None, 3, START, START + 6 * HOUR)
    scope.update(_result(scope['parts']))
    now = START + HOUR
    expected = START + 66 * HOUR
    (cycle,) = verify_cycle.VerifyCycle.record_run(
        admin_context, operation, scope, now, lambda c: expected)
    assert (cycle.number, cycle.status, cycle.read_to, cycle.chunks,
            cycle.chunks_read, cycle.chunks_left, cycle.runs,
            cycle.expected_completion) == (
        0, 'reading', SPACE // 12 + 1, 40, 10, 30, 1, expected)
    assert (cycle.started_at, cycle.ends_at) == (START, START + 3 * DAY)
    # The same run followed again (an engine restarted): counted once.
    assert verify_cycle.VerifyCycle.record_run(
        admin_context, operation, scope, now, lambda c: expected) == []
    latest = verify_cycle.VerifyCycle.latest_of(admin_context, 'op-1')
    assert (latest.runs, latest.chunks_read) == (1, 10)


def test_an_outage_ends_the_cycles_it_spanned_incomplete(db,
                                                         admin_context):
    operation = types.SimpleNamespace(id='op-2', project_id='demo')
    first = verify_cycle.plan_run(None, 3, START, START + 6 * HOUR)
    first.update(_result(first['parts']))
    verify_cycle.VerifyCycle.record_run(admin_context, operation, first,
                                        START, lambda c: None)
    latest = verify_cycle.VerifyCycle.latest_of(admin_context, 'op-2')
    due = START + 10 * DAY
    scope = verify_cycle.plan_run(latest, 3, due, due + DAY)
    scope.update(_result(scope['parts'], damaged=1))
    changed = verify_cycle.VerifyCycle.record_run(
        admin_context, operation, scope, due, lambda c: due + 2 * DAY)
    assert [(c.number, c.status) for c in changed] == [
        (0, 'incomplete'), (2, 'incomplete'), (3, 'reading')]
    assert 'were not read in this cycle' in changed[0].reason
    assert 'were not read in this cycle' in changed[1].reason
    assert changed[1].read_to == SPACE and changed[1].chunks_left == 0
    assert changed[2].chunks_damaged == 1
    assert [c.number for c in verify_cycle.VerifyCycle.list_of(
        admin_context, 'op-2')] == [3, 2, 0]
