"""The API as a WSGI application for gunicorn, uWSGI or mod_wsgi.

    gunicorn -k gthread -w 4 'karbor.wsgi.api:application'

The configuration files are those karbor-api would read
(/etc/karbor/karbor.conf by default); set KARBOR_CONFIG_FILE to name
another.
"""

import os
import threading

from karbor.api import app as api_app
from karbor.cmd import common

_lock = threading.Lock()
_application = None


def init_application():
    global _application
    with _lock:
        if _application is None:
            config = os.environ.get('KARBOR_CONFIG_FILE')
            common.init([], default_config_files=[config] if config else None)
            _application = api_app.load_app()
        return _application


def application(environ, start_response):
    """Load the app on the first request, in the worker that serves it."""
    return init_application()(environ, start_response)
