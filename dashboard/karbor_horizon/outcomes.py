"""Restores and verifications: what an operation on a checkpoint did to
each of its resources.

The two panels differ only in their names and one field of the detail
page, so both are built here from a Kind: a list whose running rows
refresh themselves until they settle, and a detail page with each
resource's status and reason.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import tables
from horizon import views

from karbor_horizon import api
from karbor_horizon import common

SETTLED = ('success', 'error')


class Kind(object):
    """One collection of the API (``restores``) and its panel's words."""

    def __init__(self, collection, member, title, plural, extra_fields=()):
        self.collection = collection
        self.member = member
        self.title = title
        self.plural = plural
        # (label, key) of the fields only this kind has.
        self.extra_fields = extra_fields
        self.index_url = 'horizon:project:karbor_%s:index' % collection
        self.detail_url = 'horizon:project:karbor_%s:detail' % collection

    def get(self, request, item_id):
        return api.get(request, '/%s/%s' % (self.collection, item_id),
                       self.member)


def checkpoint_link(item):
    return reverse('horizon:project:karbor_checkpoints:detail',
                   args=(item.provider_id, item.checkpoint_id))


def outcome(item):
    """How many resources ended how, e.g. "1 success"."""
    counts = {}
    for status in (item.get('resources_status') or {}).values():
        counts[status] = counts.get(status, 0) + 1
    return ', '.join('%d %s' % (n, s) for s, n in sorted(counts.items())) \
        or '-'


def table_class(kind):
    """The list of ``kind``'s rows."""

    class Row(tables.Row):
        """Rows still running refresh themselves until they settle."""
        ajax = True

        def get_data(self, request, item_id):
            return kind.get(request, item_id)

    class Table(tables.DataTable):
        id = tables.Column('id', verbose_name=_('ID'), link=kind.detail_url)
        checkpoint = tables.Column('checkpoint_id',
                                   verbose_name=_('Checkpoint'),
                                   link=checkpoint_link)
        created = tables.Column('created_at', verbose_name=_('Created'))
        resources = tables.Column(outcome, verbose_name=_('Resources'))
        status = common.status_column(verbose_name=_('Status'))

        class Meta(object):
            name = kind.collection
            verbose_name = kind.plural
            status_columns = ('status',)
            row_class = Row

    return Table


class IndexView(tables.DataTableView):
    kind = None

    def get_data(self):
        kind = self.kind
        return common.fetch(
            self.request, _('Unable to list %s') % kind.collection,
            lambda: api.listing(self.request, '/%s' % kind.collection,
                                kind.collection), [])


class DetailView(views.HorizonTemplateView):
    template_name = 'karbor_horizon/detail.html'
    kind = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        kind = self.kind
        try:
            item = kind.get(self.request, kwargs['%s_id' % kind.member])
        except api.KarborError as exc:
            message = _('Unable to show the %(kind)s: %(reason)s') % {
                'kind': kind.member, 'reason': exc.message}
            exceptions.handle(self.request, message,
                              redirect=reverse(kind.index_url))
        context['page_title'] = '%s %s' % (kind.title, item.id)
        context['fields'] = common.fields(
            (_('ID'), item.id), (_('Status'), item.status),
            (_('Checkpoint'), item.checkpoint_id),
            (_('Provider'), item.provider_id),
            (_('Created'), item.created_at),
            *[(label, item.get(key) or '-')
              for label, key in kind.extra_fields],
            (_('Parameters'), common.pretty(item.get('parameters') or {})))
        context['resources'] = common.resource_rows(item)
        context['poll'] = item.status not in SETTLED
        return context
