"""karbor-manage: operator commands against the database and bank.

    karbor-manage db sync [--revision REV]
    karbor-manage db version
    karbor-manage checkpoint reindex [--provider ID]
    karbor-manage operation_log purge --before DATE [--project P]
    karbor-manage scheduled_operation purge_runs --before DATE [--project P]
    karbor-manage scheduled_operation purge_cycles --before DATE [--project P]
"""

import sys

from oslo_config import cfg
from oslo_utils import timeutils

from karbor.cmd import common
from karbor import context
from karbor.db import migration
from karbor import exception
from karbor import objects
from karbor.services.protection import checkpoint as bank_checkpoint
from karbor.services.protection import provider as provider_registry


def _db_sync():
    migration.upgrade(common.CONF.command.revision)
    print('Database is at revision %s' % migration.version())


def _db_version():
    print(migration.version() or 'None (run "karbor-manage db sync")')


def _add_db_commands(subparsers):
    db = subparsers.add_parser('db', help='Database schema management.')
    actions = db.add_subparsers(dest='action')
    actions.required = True
    sync = actions.add_parser('sync', help='Upgrade the schema.')
    sync.add_argument('--revision', default='head',
                      help='Target revision (default: head).')
    sync.set_defaults(func=_db_sync)
    version = actions.add_parser('version',
                                 help='Print the schema revision.')
    version.set_defaults(func=_db_version)


def _checkpoint_reindex():
    registry = provider_registry.get_registry()
    wanted = common.CONF.command.provider_id
    providers = [registry.get(wanted)] if wanted else registry.list()
    ctx = context.get_admin_context()
    for provider in providers:
        added, updated = bank_checkpoint.reindex(ctx, provider.id,
                                                 provider.bank_class())
        print('Provider %s (%s): %d checkpoints added, %d updated' % (
            provider.name, provider.id, added, updated))


def _add_checkpoint_commands(subparsers):
    checkpoint = subparsers.add_parser(
        'checkpoint', help='Checkpoints kept in the providers\' banks.')
    actions = checkpoint.add_subparsers(dest='action')
    actions.required = True
    reindex = actions.add_parser(
        'reindex', help='Rebuild the database index of checkpoints from '
                        'the banks (e.g. a new deployment on an old bank).')
    # dest avoids CONF.command.provider, which oslo.config refuses: a
    # [provider] group exists.
    reindex.add_argument('--provider', dest='provider_id',
                         help='Only this provider\'s bank.')
    reindex.set_defaults(func=_checkpoint_reindex)


def _before():
    try:
        return timeutils.normalize_time(
            timeutils.parse_isotime(common.CONF.command.before))
    except ValueError:
        raise exception.InvalidInput(field='--before',
                                     reason='not an ISO 8601 date')


def _purge(object_name, purged):
    """A purge command: ``objects.<object_name>.purge`` of the rows
    before ``--before``; ``purged`` words the report ("%d ... %s")."""
    def run():
        args = common.CONF.command
        before = _before()
        removed = getattr(objects, object_name).purge(
            context.get_admin_context(), before, project_id=args.project,
            batch_size=args.batch_size)
        print('Purged ' + purged % (removed, before.isoformat()))
    return run


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise ValueError('must be at least 1')
    return value


def _add_purge(actions, name, help, func):
    purge = actions.add_parser(name, help=help)
    purge.add_argument('--before', required=True,
                       help='ISO 8601 date or timestamp (UTC).')
    purge.add_argument('--project', help='Only this project\'s rows.')
    purge.add_argument('--batch-size', type=_positive_int, default=1000,
                       help='Rows deleted per transaction (default 1000).')
    purge.set_defaults(func=func)


def _add_operation_log_commands(subparsers):
    logs = subparsers.add_parser('operation_log',
                                 help='The operation-log audit trail.')
    actions = logs.add_subparsers(dest='action')
    actions.required = True
    _add_purge(actions, 'purge',
               'Delete finished operation logs that started before a '
               'date, in small batches so the API stays live.',
               _purge('OperationLog',
                      '%d operation logs that started before %s'))


def _add_scheduled_operation_commands(subparsers):
    operations = subparsers.add_parser(
        'scheduled_operation', help='Scheduled operations and their runs.')
    actions = operations.add_subparsers(dest='action')
    actions.required = True
    _add_purge(actions, 'purge_runs',
               'Delete the recorded runs (succeeded, failed, skipped) due '
               'before a date, except runs still going on, in small '
               'batches so the engines and the API stay live.',
               _purge('ScheduledOperationRun',
                      '%d ended runs of scheduled operations due before '
                      '%s'))
    _add_purge(actions, 'purge_cycles',
               'Delete the verify cycles of deleted scheduled operations '
               'that started before a date, and the cycles that ended '
               'before it (but each operation\'s newest), in small '
               'batches.',
               _purge('VerifyCycle',
                      '%d verify cycles that ended (or, of deleted '
                      'scheduled operations, started) before %s'))


def _add_commands(subparsers):
    subparsers.required = True
    _add_db_commands(subparsers)
    _add_checkpoint_commands(subparsers)
    _add_operation_log_commands(subparsers)
    _add_scheduled_operation_commands(subparsers)


command_opt = cfg.SubCommandOpt('command', title='Commands',
                                handler=_add_commands)


def main(argv=None):
    common.CONF.register_cli_opt(command_opt)
    common.init(argv)
    try:
        common.CONF.command.func()
    except Exception as exc:
        print('Error: %s' % exc, file=sys.stderr)
        return 1
    return 0
