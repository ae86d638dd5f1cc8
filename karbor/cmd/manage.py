"""karbor-manage: operator commands against the database and bank.

    karbor-manage db sync [--revision REV]
    karbor-manage db version
"""

import sys

from oslo_config import cfg

from karbor.cmd import common
from karbor.db import migration


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


def _add_commands(subparsers):
    subparsers.required = True
    _add_db_commands(subparsers)


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
