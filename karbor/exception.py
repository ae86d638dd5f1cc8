"""Domain exceptions.

They carry no HTTP status: ``karbor.api.faults`` maps each family
(NotFound, Invalid, Forbidden, Conflict) to a status in one place, so the
same exceptions serve RPC and the command-line tools too.
"""


class KarborException(Exception):
    """Base of every Karbor error; ``message`` is safe to show a user."""

    message = 'An unknown error occurred.'

    def __init__(self, message=None, **kwargs):
        if message is None:
            message = self.message % kwargs if kwargs else self.message
        self.message = message
        self.kwargs = kwargs
        super().__init__(message)


class Invalid(KarborException):
    message = 'Invalid input.'


class InvalidInput(Invalid):
    message = 'Invalid input for field %(field)s: %(reason)s'


class NotFound(KarborException):
    message = 'Resource could not be found.'


class ProviderNotFound(NotFound):
    message = 'Provider %(provider_id)s could not be found.'


class ServiceNotFound(NotFound):
    message = 'Service %(service_id)s could not be found.'


class QuotaClassNotFound(NotFound):
    message = ('Quota class %(class_name)s could not be found; the only '
               'quota class is "default".')


class Forbidden(KarborException):
    message = 'Not authorized.'


class PolicyNotAuthorized(Forbidden):
    message = 'Policy does not allow %(action)s to be performed.'


class QuotaExceeded(Forbidden):
    # ``source`` says where the limit was set: "[quota] plans", "quota of
    # project X" or "quota class default".
    message = ('Quota exceeded for %(resource)s of project %(project_id)s: '
               '%(in_use)d in use, limit %(limit)d (%(source)s). '
               'Delete some, or ask an administrator to raise the limit.')


class ProjectMismatch(Forbidden):
    message = ('The project in the URL is not the project of the '
               'authentication token.')


class NotAuthenticated(KarborException):
    message = 'Authentication required.'


class Conflict(KarborException):
    message = 'The request conflicts with the current state.'


class OperationNotSent(KarborException):
    message = ('The operation could not be sent to a protection service '
               '(%(reason)s): it ended in error.')


class RequestBodyTooLarge(KarborException):
    message = 'Request body is larger than %(limit)d bytes.'


class ProviderConfigError(KarborException):
    message = 'Invalid provider definition %(path)s: %(reason)s'


class PluginNotFound(KarborException):
    message = 'No %(kind)s plugin named %(name)s is installed.'


class BankObjectNotFound(NotFound):
    message = 'Bank object %(key)s could not be found.'


class CheckpointNotFound(NotFound):
    message = 'Checkpoint %(checkpoint_id)s could not be found.'


class ProtectableTypeNotFound(NotFound):
    message = 'Protectable type %(type)s is not supported.'


class ProtectableResourceNotFound(NotFound):
    message = 'Resource %(id)s of type %(type)s could not be found.'


class PlanNotFound(NotFound):
    message = 'Plan %(plan_id)s could not be found.'


class RestoreNotFound(NotFound):
    message = 'Restore %(restore_id)s could not be found.'


class InvalidState(Conflict):
    message = '%(what)s is %(status)s; %(action)s needs %(needed)s.'


class CheckpointOperationFailed(KarborException):
    message = '%(reason)s'


class DirectoryReadError(KarborException):
    message = 'Cannot read %(path)s: %(reason)s'


class RestoreTargetExists(Conflict):
    message = 'The restore target %(target)s already exists.'


class InvalidRestoreName(Invalid):
    message = 'Invalid restore name %(name)r: %(reason)s'


class ChunkCorrupted(KarborException):
    message = 'Bank object %(key)s is missing or corrupt: %(reason)s'


class InvalidManifest(KarborException):
    message = 'Invalid manifest %(key)s: %(reason)s'


class OperationLogNotFound(NotFound):
    message = 'Operation log %(operation_log_id)s could not be found.'


class VerificationNotFound(NotFound):
    message = 'Verification %(verification_id)s could not be found.'


class TriggerNotFound(NotFound):
    message = 'Trigger %(trigger_id)s could not be found.'


class TriggerRefused(Conflict):
    # Stored before the checks got stricter: its operations cannot be
    # scheduled until its properties are updated.
    message = ('Trigger %(trigger_id)s has properties this version no longer '
               'accepts (%(reason)s); update its properties for its '
               'scheduled operations to run.')


class TriggerInUse(Conflict):
    message = ('Trigger %(trigger_id)s is used by scheduled operation(s) '
               '%(operations)s; delete them first.')


class ScheduledOperationNotFound(NotFound):
    message = ('Scheduled operation %(scheduled_operation_id)s could not be '
               'found.')
