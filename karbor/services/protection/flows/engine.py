"""Running a flow: taskflow's parallel engine on threads."""

import contextlib

from oslo_log import log as logging
import taskflow.engines

from karbor.conf import CONF
from karbor.db import session as db_session
from karbor import exception
from karbor import objects
from karbor.services.protection import resource as resource_mod

LOG = logging.getLogger(__name__)


def run(flow, store):
    """Run ``flow`` to its end; raise what made it fail (after revert)."""
    engine = taskflow.engines.load(
        flow, store=store, engine='parallel', executor='threaded',
        max_workers=CONF.protection_max_parallel_tasks)
    engine.run()


def run_recorded(what, flow, store):
    """Run ``flow``, whose Initiate revert records any failure.

    What the plugins report (a KarborException) is logged without a
    traceback; anything else keeps its trace for the operator.
    """
    try:
        run(flow, store)
    except exception.KarborException as exc:
        LOG.warning('%s failed: %s', what, exc)
    except Exception:
        LOG.exception('%s failed', what)


def summarize(report, failed_status='error'):
    """One line naming every failed resource and its reason."""
    reasons = ['%s %s: %s' % (record.get('type'), resource_id,
                              record.get('reason'))
               for resource_id, record in sorted(report.snapshot().items())
               if record.get('status') == failed_status]
    return '; '.join(reasons)


def keyed_outcomes(report):
    """({"TYPE#ID": status}, {"TYPE#ID": reason}) of a report's resources,
    the shape restores and verifications show."""
    statuses, reasons = {}, {}
    for resource_id, record in (report.snapshot().items()
                                if report is not None else ()):
        key = '%s#%s' % (record.get('type'), resource_id)
        statuses[key] = record.get('status')
        if record.get('reason'):
            reasons[key] = record['reason']
    return statuses, reasons


def start_log(context, operation_type, project_id, report, **ids):
    """Open the operation's log; the report keeps its extra_info current."""
    log = objects.OperationLog.start(context, operation_type, project_id,
                                     **ids)

    def progress(current):
        try:
            log.record_progress(resource_mod.summarize_extra_info(current))
        except Exception:
            # Progress is best effort; the outcome is written at the end.
            LOG.exception('Could not record the progress of %s', log.id)

    if report is not None:
        report.listener = progress
    return log


def end_log(log, report, succeeded, error_info=None, overall=None):
    """Close the operation's log with its outcome and figures.

    :param overall: a callable given the summarized extra_info, returning
        figures of the whole operation that replace the per-resource sums
        (a duration or a rate does not add up over resources).
    """
    if report is not None:
        report.listener = None
    extra_info = (resource_mod.summarize_extra_info(report)
                  if report is not None else None)
    if extra_info is not None and overall is not None:
        try:
            extra_info.update(overall(extra_info))
        except Exception:
            LOG.exception('Could not sum up the figures of %s', log.id)
    try:
        log.finish(succeeded, error_info=error_info, extra_info=extra_info)
    except Exception:
        LOG.exception('Could not end operation log %s', log.id)


@contextlib.contextmanager
def ending(row, log=None):
    """One transaction in which an operation's row and its log end.

    Ended one after the other, a reader could see the log ended while the
    row was not (a delete log ``deleted`` while its checkpoint was still
    listed), or the reverse. The log was opened in the request's context
    and the row claimed in the service's, and each object writes through
    its own context: the log takes the row's for its ending. Logs made
    inside (log_failure) must be given ``row._context``.
    """
    if isinstance(log, objects.OperationLog):
        log._context = row._context
    with db_session.writer.using(row._context):
        yield


def log_failure(context, operation_type, project_id, error_info, **ids):
    """Log an operation that failed before its flow could start."""
    try:
        log = objects.OperationLog.start(context, operation_type,
                                         project_id, **ids)
        log.finish(False, error_info=error_info)
    except Exception:
        LOG.exception('Could not log the failed %s', operation_type)
