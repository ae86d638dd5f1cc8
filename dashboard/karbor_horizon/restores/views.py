"""Restores: list and detail with each resource's status and reason."""

from django.utils.translation import gettext_lazy as _

from karbor_horizon import outcomes

KIND = outcomes.Kind('restores', 'restore', _('Restore'), _('Restores'),
                     extra_fields=((_('Restore target'), 'restore_target'),))


class IndexView(outcomes.IndexView):
    kind = KIND
    table_class = outcomes.table_class(KIND)
    page_title = KIND.plural


class DetailView(outcomes.DetailView):
    kind = KIND
    page_title = KIND.title
