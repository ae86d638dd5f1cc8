"""The e2e CLI scenario of a directory's protection, on the deployment.

The same tests as karbor/tests/e2e/test_protection_cli.py (imported, not
copied), driven through the released clients; here ``karbor_server`` is
the multi-process deployment, so plans and checkpoints go through gunicorn
workers, RabbitMQ and either protection service, and the bank is shared.
"""

from karbor.tests.e2e.test_protection_cli import *  # noqa: F401,F403,H303
