"""Verifications: list and detail with each resource's status and reason."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import tables
from horizon import views

from karbor_horizon import api
from karbor_horizon import common

INDEX = 'horizon:project:karbor_verifications:index'
SETTLED = ('success', 'error')


class VerificationRow(tables.Row):
    """Rows still running refresh themselves until they settle."""
    ajax = True

    def get_data(self, request, verification_id):
        return api.get(request, '/verifications/%s' % verification_id,
                       'verification')


def _checkpoint_link(verification):
    return reverse('horizon:project:karbor_checkpoints:detail',
                   args=(verification.provider_id, verification.checkpoint_id))


def _outcome(verification):
    """How many resources ended how, e.g. "1 success"."""
    counts = {}
    for status in (verification.get('resources_status') or {}).values():
        counts[status] = counts.get(status, 0) + 1
    return ', '.join('%d %s' % (n, s) for s, n in sorted(counts.items())) \
        or '-'


class VerificationsTable(tables.DataTable):
    id = tables.Column('id', verbose_name=_('ID'),
                       link='horizon:project:karbor_verifications:detail')
    checkpoint = tables.Column('checkpoint_id', verbose_name=_('Checkpoint'),
                               link=_checkpoint_link)
    created = tables.Column('created_at', verbose_name=_('Created'))
    resources = tables.Column(_outcome, verbose_name=_('Resources'))
    status = common.status_column(verbose_name=_('Status'))

    class Meta(object):
        name = 'verifications'
        verbose_name = _('Verifications')
        status_columns = ('status',)
        row_class = VerificationRow


class IndexView(tables.DataTableView):
    table_class = VerificationsTable
    page_title = _('Verifications')

    def get_data(self):
        return common.fetch(self.request, _('Unable to list verifications'),
                            lambda: api.listing(self.request, '/verifications',
                                                'verifications'), [])


class DetailView(views.HorizonTemplateView):
    template_name = 'karbor_horizon/detail.html'
    page_title = _('Verification')

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            item = api.get(self.request, '/verifications/%s'
                           % kwargs['verification_id'], 'verification')
        except api.KarborError as exc:
            message = _('Unable to show the verification: %s') % exc.message
            exceptions.handle(self.request, message, redirect=reverse(INDEX))
        context['page_title'] = _('Verification %s') % item.id
        context['fields'] = common.fields(
            (_('ID'), item.id), (_('Status'), item.status),
            (_('Checkpoint'), item.checkpoint_id),
            (_('Provider'), item.provider_id),
            (_('Created'), item.created_at),
            (_('Parameters'), common.pretty(item.get('parameters') or {})),)
        context['resources'] = common.resource_rows(item)
        context['poll'] = item.status not in SETTLED
        return context
