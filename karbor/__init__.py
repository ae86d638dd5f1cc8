"""Karbor: application data protection as a service."""

import warnings

# futurist and taskflow import eventlet (never monkey-patching it); the
# import alone warns about eventlet's deprecation. We run on threads.
warnings.filterwarnings('ignore', message=r'(?s)\s*Eventlet is deprecated')

from oslo_service import backend as _service_backend  # noqa: E402

# oslo.messaging pulls in oslo.service, whose default backend is eventlet.
# Select the threading backend before anything imports oslo_service.service.
try:
    _service_backend.init_backend(_service_backend.BackendType.THREADING)
except _service_backend.exceptions.BackendAlreadySelected:
    pass
