"""Restores: list and detail with each resource's status and reason."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import tables
from horizon import views

from karbor_horizon import api
from karbor_horizon import common

INDEX = 'horizon:project:karbor_restores:index'
SETTLED = ('success', 'error')


class RestoreRow(tables.Row):
    """Rows still running refresh themselves until they settle."""
    ajax = True

    def get_data(self, request, restore_id):
        return api.get(request, '/restores/%s' % restore_id,
                       'restore')


def _checkpoint_link(restore):
    return reverse('horizon:project:karbor_checkpoints:detail',
                   args=(restore.provider_id, restore.checkpoint_id))


def _outcome(restore):
    """How many resources ended how, e.g. "1 success"."""
    counts = {}
    for status in (restore.get('resources_status') or {}).values():
        counts[status] = counts.get(status, 0) + 1
    return ', '.join('%d %s' % (n, s) for s, n in sorted(counts.items())) \
        or '-'


class RestoresTable(tables.DataTable):
    id = tables.Column('id', verbose_name=_('ID'),
                       link='horizon:project:karbor_restores:detail')
    checkpoint = tables.Column('checkpoint_id', verbose_name=_('Checkpoint'),
                               link=_checkpoint_link)
    created = tables.Column('created_at', verbose_name=_('Created'))
    resources = tables.Column(_outcome, verbose_name=_('Resources'))
    status = common.status_column(verbose_name=_('Status'))

    class Meta(object):
        name = 'restores'
        verbose_name = _('Restores')
        status_columns = ('status',)
        row_class = RestoreRow


class IndexView(tables.DataTableView):
    table_class = RestoresTable
    page_title = _('Restores')

    def get_data(self):
        return common.fetch(self.request, _('Unable to list restores'),
                            lambda: api.listing(self.request, '/restores',
                                                'restores'), [])


class DetailView(views.HorizonTemplateView):
    template_name = 'karbor_horizon/detail.html'
    page_title = _('Restore')

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            item = api.get(self.request, '/restores/%s'
                           % kwargs['restore_id'], 'restore')
        except api.KarborError as exc:
            message = _('Unable to show the restore: %s') % exc.message
            exceptions.handle(self.request, message, redirect=reverse(INDEX))
        context['page_title'] = _('Restore %s') % item.id
        context['fields'] = common.fields(
            (_('ID'), item.id), (_('Status'), item.status),
            (_('Checkpoint'), item.checkpoint_id),
            (_('Provider'), item.provider_id),
            (_('Created'), item.created_at),
            (_('Restore target'), item.get('restore_target') or '-'),
            (_('Parameters'), common.pretty(item.get('parameters') or {})),)
        context['resources'] = common.resource_rows(item)
        context['poll'] = item.status not in SETTLED
        return context
