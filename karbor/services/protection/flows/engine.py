"""Running a flow: taskflow's parallel engine on threads."""

from oslo_log import log as logging
import taskflow.engines

from karbor.conf import CONF

LOG = logging.getLogger(__name__)


def run(flow, store):
    """Run ``flow`` to its end; raise what made it fail (after revert)."""
    engine = taskflow.engines.load(
        flow, store=store, engine='parallel', executor='threaded',
        max_workers=CONF.protection_max_parallel_tasks)
    engine.run()


def summarize(report, failed_status='error'):
    """One line naming every failed resource and its reason."""
    reasons = ['%s %s: %s' % (record.get('type'), resource_id,
                              record.get('reason'))
               for resource_id, record in sorted(report.snapshot().items())
               if record.get('status') == failed_status]
    return '; '.join(reasons)
