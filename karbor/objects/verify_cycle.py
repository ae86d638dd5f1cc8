"""Verify cycles: a plan's chunks read in small runs, all within N days.

A ``verify`` scheduled operation with ``cycle_days: N`` reads, over each
cycle of N days, every chunk referenced by any of the plan's available
checkpoints, once. A chunk's place on the cycle is its *offset*: the first
32 bits of its id (a SHA-256, so offsets are spread evenly), from 0 to
SPACE. The runs sweep the offsets at an even pace, one cycle per N days
from the first run on: chunk ``c`` falls due at ``start + offset(c) /
SPACE * N days`` of every cycle, so it is read about every N days.

The sweep is one number that only grows: ``cycle * SPACE + offset``. A
run due at ``t`` whose trigger runs next at ``t'`` reads from where the
previous run stopped to the position due at ``t'``: what falls due before
the next run. A run after missed ones (an engine down, a failed run)
thus reads what they left, and runs that come at any pace keep the
schedule. A run never reads more than one cycle's worth (each chunk once):
after an outage longer than a cycle, the cycles it spanned end
``incomplete``. When the sweep crosses the end of a cycle, one run reads
the end of one cycle and the start of the next (two *parts*); each chunk
falls into one of them, and is read once.

Chunks added by a checkpoint made during a cycle are read in that cycle if
the sweep has not passed their offset yet, otherwise in the next, at their
offset: within N days either way.

A run reads a slice of every checkpoint: it is no verification of any one
of them, and leaves the checkpoints' ``last_verification_*`` alone. When a
cycle completes, every checkpoint that each of its runs read (listed from
the cycle's first run to its last, so none of its chunks was left out)
gets the cycle as its last verification: at its completion, with the
cycle's result (``success`` if every run of it succeeded and no chunk was
damaged) and the id of the run that completed it, whose ``scope`` says it
is a cycle's.
"""

import datetime

from oslo_utils import uuidutils
from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields
from sqlalchemy import and_
from sqlalchemy import or_
from sqlalchemy import orm
from sqlalchemy import select
from sqlalchemy import update

from karbor.db import models
from karbor.db import session as db
from karbor.objects import base
from karbor.objects import checkpoint as checkpoint_obj
from karbor.objects import verification as verification_obj

# Offsets of chunks run from 0 to SPACE (exclusive).
SPACE = 1 << 32

READING = 'reading'
COMPLETE = 'complete'
INCOMPLETE = 'incomplete'


def offset(digest):
    """A chunk's place on the cycle: the first 32 bits of its id."""
    return int(digest[:8], 16)


def _microseconds(delta):
    return (delta.days * 86400 + delta.seconds) * 10 ** 6 + \
        delta.microseconds


def due_position(anchor, days, moment):
    """The sweep position due at ``moment`` (rounded up), for cycles of
    ``days`` days from ``anchor``."""
    length = _microseconds(datetime.timedelta(days=days))
    elapsed = max(0, _microseconds(moment - anchor))
    return -(-elapsed * SPACE // length)


def plan_run(latest, days, due, following):
    """The part of the sweep a run due at ``due`` reads.

    ``latest``: the operation's newest VerifyCycle (None before its first
    run); ``following``: the trigger's next run (None if it has none:
    the run then reads to the end of the current cycle). Returns the
    run's scope without its checkpoints: ``anchor`` (the start of cycle
    0), ``days``, ``after`` (the position it starts from, the guard
    against recording it twice), ``to`` and the ``parts`` it reads, each
    ``{"cycle", "from", "to"}`` offsets.
    """
    length = datetime.timedelta(days=days)
    if latest is None:
        anchor, position = due, 0
    else:
        anchor = latest.started_at - latest.number * length
        position = latest.number * SPACE + latest.read_to
    if following is None:
        target = (position // SPACE + 1) * SPACE
    else:
        target = max(position, due_position(anchor, days, following))
    at = max(position, target - SPACE)
    parts = []
    while at < target:
        cycle = at // SPACE
        end = min(target, (cycle + 1) * SPACE)
        parts.append({'cycle': cycle, 'from': at - cycle * SPACE,
                      'to': end - cycle * SPACE})
        at = end
    return {'anchor': anchor.isoformat(), 'days': days, 'after': position,
            'to': target, 'parts': parts}


@base.KarborObjectRegistry.register
class VerifyCycle(base.ProjectObject, base.TimestampedObject,
                  ovo_base.VersionedObjectDictCompat):
    """The progress of one cycle of a verify scheduled operation.

    Version history:
      1.0 - initial version
    """

    VERSION = '1.0'
    model = models.VerifyCycle

    fields = dict(base.TimestampedObject.fields, **{
        'id': fields.StringField(),
        'project_id': fields.StringField(),
        'scheduled_operation_id': fields.StringField(),
        'number': fields.IntegerField(),
        'status': fields.StringField(),
        'started_at': fields.DateTimeField(tzinfo_aware=False),
        'ends_at': fields.DateTimeField(tzinfo_aware=False),
        'read_to': fields.IntegerField(),
        'chunks': fields.IntegerField(),
        'chunks_read': fields.IntegerField(),
        'chunks_left': fields.IntegerField(),
        'chunks_damaged': fields.IntegerField(),
        'runs': fields.IntegerField(),
        'expected_completion': fields.DateTimeField(tzinfo_aware=False,
                                                    nullable=True),
        'completed_at': fields.DateTimeField(tzinfo_aware=False,
                                             nullable=True),
        'reason': fields.StringField(nullable=True),
    })

    @classmethod
    def list_of(cls, context, operation_id, limit=None):
        """The operation's cycles, newest first."""
        model = models.VerifyCycle
        with db.reader.using(context) as session:
            stmt = select(model).where(
                model.scheduled_operation_id == operation_id,
                model.deleted.is_(False)).order_by(model.number.desc())
            if limit is not None:
                stmt = stmt.limit(limit)
            return [cls.from_db(context, row)
                    for row in session.execute(stmt).scalars().all()]

    @classmethod
    def latest_of(cls, context, operation_id):
        found = cls.list_of(context, operation_id, limit=1)
        return found[0] if found else None

    @classmethod
    def purge(cls, context, before, project_id=None, batch_size=1000):
        """Delete the cycles of the past, in short batches.

        Removed: every cycle of a deleted scheduled operation that started
        before ``before``, and the cycles that ended (complete or
        incomplete) before it, except an operation's newest cycle, which
        places the next run on the sweep (without it the next run would
        start a new cycle 0 from its own due time). A cycle being read is
        the engine's state: kept. Returns the number of rows removed.
        """
        model = models.VerifyCycle
        operation = models.ScheduledOperation
        newer = orm.aliased(model)
        live = select(operation.id).where(
            operation.id == model.scheduled_operation_id,
            operation.deleted.is_(False)).exists()
        superseded = select(newer.id).where(
            newer.scheduled_operation_id == model.scheduled_operation_id,
            newer.number > model.number).exists()
        conditions = [or_(
            and_(~live, model.started_at < before),
            and_(model.status != READING, model.completed_at < before,
                 superseded))]
        if project_id is not None:
            conditions.append(model.project_id == project_id)
        return base.purge_in_batches(context, model, conditions, batch_size)

    @classmethod
    def record_run(cls, context, operation, scope, now, expected,
                   verification_id=None):
        """Add what a run read (``scope['result']``) to its cycles.

        In one transaction, and only if no other run moved the sweep since
        this one was planned (so that a run followed again after a restart
        counts once). ``expected(cycle)``: the due time of the run expected
        to end a cycle still being read. A cycle this run completes is
        noted on the checkpoints it read whole (``verification_id``: the
        run's verification). Returns the cycles changed.
        """
        result = scope['result']
        length = datetime.timedelta(days=scope['days'])
        anchor = models.parse_time(scope['anchor'])
        model = models.VerifyCycle
        with db.writer.using(context) as session:
            # Write first: it takes the operation's row (and, on SQLite,
            # the database) for the transaction, so that the reads below
            # see no other run's change and the writes need no upgrade of
            # a read lock (which SQLite refuses while another writes).
            session.execute(
                update(models.ScheduledOperation)
                .where(models.ScheduledOperation.id == operation.id)
                .values(updated_at=models.utcnow()))
            rows = session.execute(
                select(model).where(
                    model.scheduled_operation_id == operation.id,
                    model.deleted.is_(False))
                .order_by(model.number.desc()).limit(2)).scalars().all()
            latest = rows[0] if rows else None
            position = (latest.number * SPACE + latest.read_to
                        if latest is not None else 0)
            if position != scope['after']:
                return []
            by_number = {row.number: row for row in rows}
            changed = []
            parts = list(zip(scope['parts'], result['parts']))
            first = parts[0][0]['cycle'] if parts else None
            if latest is not None and latest.status == READING and \
                    first is not None and latest.number < first:
                # An outage longer than what was left of it.
                latest.status = INCOMPLETE
                latest.completed_at = now
                latest.expected_completion = None
                latest.reason = ('runs were missed: offsets from %d on '
                                 'were not read in this cycle' %
                                 latest.read_to)
                changed.append(latest)
            for part, read in parts:
                row = by_number.get(part['cycle'])
                if row is None:
                    started = anchor + part['cycle'] * length
                    row = model(
                        id=uuidutils.generate_uuid(),
                        project_id=operation.project_id,
                        scheduled_operation_id=operation.id,
                        number=part['cycle'], status=READING,
                        started_at=started, ends_at=started + length,
                        read_to=0, chunks=0, chunks_read=0, chunks_left=0,
                        chunks_damaged=0, runs=0, deleted=False)
                    if part['from'] > 0:
                        row.reason = ('runs were missed: offsets below %d '
                                      'were not read in this cycle' %
                                      part['from'])
                    session.add(row)
                row.read_to = part['to']
                row.chunks = result['chunks']
                row.chunks_read += read['chunks_read']
                row.chunks_damaged += read['chunks_damaged']
                row.runs += 1
                if part['to'] == SPACE:
                    row.status = COMPLETE if row.reason is None \
                        else INCOMPLETE
                    row.completed_at = now
                    row.chunks_left = 0
                    row.expected_completion = None
                    if row.status == COMPLETE:
                        session.flush()
                        _note_on_checkpoints(context, session, row,
                                             verification_id, now)
                else:
                    row.chunks_left = result['chunks_left']
                    row.expected_completion = expected(row)
                changed.append(row)
            if not parts and latest is not None and \
                    latest.status == READING:
                # Nothing fell due (the trigger runs more often than the
                # offsets move): the counts are still news.
                latest.chunks = result['chunks']
                latest.chunks_left = result['chunks_left']
                latest.runs += 1
                changed.append(latest)
            session.flush()
            return [cls.from_db(context, row) for row in changed]


def _note_on_checkpoints(context, session, cycle, verification_id, now):
    """Make a completed cycle the last verification of the checkpoints
    whose every chunk it read; returns their ids.

    The proof is in the verifications of the cycle's runs (their scopes
    say which checkpoints each listed and which offsets it read): a
    checkpoint counts if every run of the cycle listed it and did not skip
    it. Runs purged since (``purge_runs``) leave a gap in the offsets, and
    then the cycle vouches for nothing.
    """
    run = models.ScheduledOperationRun
    verification = models.Verification
    # The runs reading a cycle are due at most one trigger interval (at
    # most one cycle, which validation enforces) before it starts.
    since = cycle.started_at - (cycle.ends_at - cycle.started_at)
    found = session.execute(
        select(verification.status, verification.scope)
        .join(run, run.verification_id == verification.id)
        .where(run.scheduled_operation_id == cycle.scheduled_operation_id,
               run.due_at >= since)).all()
    slices, listed, succeeded = [], None, True
    for status, scope in found:
        if not scope or 'result' not in scope:
            continue
        mine = [(part['from'], part['to']) for part in scope['parts']
                if part['cycle'] == cycle.number]
        if not mine:
            continue
        slices.extend(mine)
        read = set(scope.get('checkpoints') or ()) - set(
            scope['result'].get('checkpoints_skipped') or ())
        listed = read if listed is None else listed & read
        succeeded = succeeded and status == verification_obj.SUCCESS
    reached = 0
    for start, end in sorted(slices):
        if start > reached:
            break
        reached = max(reached, end)
    if reached < SPACE or not listed:
        return []
    status = verification_obj.SUCCESS if succeeded and \
        cycle.chunks_damaged == 0 else verification_obj.ERROR
    return [checkpoint_id for checkpoint_id in sorted(listed)
            if checkpoint_obj.Checkpoint.record_verification(
                context, checkpoint_id, verification_id, status, at=now)]
