"""Start-up shared by every console script."""

import sys

from oslo_log import log as logging

from karbor.conf import CONF  # noqa: F401 (re-exported)
from karbor.db import session as db_session
from karbor import objects
from karbor import version


def init(argv=None, default_config_files=None):
    """Parse the command line and configuration; set up logging and DB."""
    logging.register_options(CONF)
    # Schema upgrades narrate at INFO, and taskflow logs each failed task
    # with a traceback although the flows record the failure themselves.
    logging.set_defaults(default_log_levels=logging.get_default_log_levels()
                         + ['alembic=WARN', 'taskflow=ERROR'])
    CONF(sys.argv[1:] if argv is None else argv, project='karbor',
         version=version.version_string(),
         default_config_files=default_config_files)
    logging.setup(CONF, 'karbor')
    objects.register_all()
    db_session.configure(CONF)
