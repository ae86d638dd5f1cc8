"""The request context every layer receives."""

from oslo_context import context as oslo_context
from oslo_db.sqlalchemy import enginefacade


@enginefacade.transaction_context_provider
class RequestContext(oslo_context.RequestContext):
    """oslo.context's context, made an enginefacade transaction holder.

    ``is_admin`` is derived from the roles at construction, so policy and
    queries agree on who may cross project boundaries.
    """

    def __init__(self, is_admin=None, **kwargs):
        super().__init__(**kwargs)
        if is_admin is None:
            is_admin = 'admin' in (self.roles or [])
        self.is_admin = is_admin

    def to_dict(self):
        values = super().to_dict()
        values['is_admin'] = self.is_admin
        return values

    @classmethod
    def from_dict(cls, values):
        return super().from_dict(values, is_admin=values.get('is_admin'))


def get_admin_context():
    """A context for services acting on their own behalf."""
    return RequestContext(is_admin=True, roles=['admin'],
                          overwrite=False)
