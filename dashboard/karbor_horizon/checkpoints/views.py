"""Checkpoints of one provider: list, detail, Verify, Restore, Delete."""

from django import shortcuts
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from horizon import exceptions
from horizon import forms
from horizon import messages
from horizon import tables
from horizon import views

from karbor_horizon import api
from karbor_horizon import common

INDEX = 'horizon:project:karbor_checkpoints:provider'
SETTLED = ('available', 'error', 'deleted', 'error_deleting')


def _path(provider_id, checkpoint_id=''):
    return '/providers/%s/checkpoints/%s' % (provider_id, checkpoint_id)


def _available(datum):
    return datum is None or datum.status == 'available'


class Verify(tables.BatchAction):
    name = 'verify'
    icon = 'check'
    policy_rules = common.rules('verification:create')

    @staticmethod
    def action_present(count):
        return ngettext_lazy('Verify', 'Verify', count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy('Started verifying checkpoint',
                             'Started verifying checkpoints', count)

    def allowed(self, request, datum=None):
        return _available(datum)

    def action(self, request, obj_id):
        common.act(request, lambda: api.create(
            request, '/verifications', 'verification', {
                'provider_id': self.table.kwargs['provider_id'],
                'checkpoint_id': obj_id, 'parameters': {}}))


class Restore(tables.LinkAction):
    name = 'restore'
    verbose_name = _('Restore')
    classes = ('ajax-modal',)
    icon = 'undo'
    policy_rules = common.rules('restore:create')

    def allowed(self, request, datum=None):
        return _available(datum)

    def get_link_url(self, datum):
        return reverse('horizon:project:karbor_checkpoints:restore',
                       args=(self.table.kwargs['provider_id'], datum.id))


class DeleteCheckpoint(tables.DeleteAction):
    policy_rules = common.rules('checkpoint:delete')

    @staticmethod
    def action_present(count):
        return ngettext_lazy('Delete Checkpoint', 'Delete Checkpoints',
                             count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy('Deleting Checkpoint', 'Deleting Checkpoints',
                             count)

    def allowed(self, request, datum=None):
        return datum is None or datum.status in ('available', 'error')

    def delete(self, request, obj_id):
        common.act(request, lambda: api.delete(
            request, _path(self.table.kwargs['provider_id'], obj_id)))


class CheckpointRow(tables.Row):
    """Rows still protecting or deleting refresh themselves."""
    ajax = True

    def get_data(self, request, checkpoint_id):
        return api.get(request, _path(self.table.kwargs['provider_id'],
                                      checkpoint_id), 'checkpoint')


class CheckpointFilter(tables.FilterAction):
    filter_type = 'query'

    def filter(self, table, checkpoints, text):
        text = text.lower()
        return [c for c in checkpoints
                if text in ('%s %s %s' % (c.id, c.status,
                                          c.protection_plan['name'])).lower()]


def _last_verification(checkpoint):
    """Its result and what it read: "success (full)", "error (cycle)"."""
    status = checkpoint.get('last_verification_status')
    if not status:
        return '-'
    scope = checkpoint.get('last_verification_scope')
    return '%s (%s)' % (status, scope) if scope else status


def _detail_link(checkpoint):
    return reverse('horizon:project:karbor_checkpoints:detail',
                   args=(checkpoint.provider_id, checkpoint.id))


class CheckpointsTable(tables.DataTable):
    id = tables.Column('id', verbose_name=_('ID'), link=_detail_link)
    plan = tables.Column(lambda c: c.protection_plan['name'],
                         verbose_name=_('Plan'))
    created = tables.Column('created_at', verbose_name=_('Created'))
    verified = tables.Column(_last_verification,
                             verbose_name=_('Last verification'))
    status = common.status_column(verbose_name=_('Status'))

    class Meta(object):
        name = 'checkpoints'
        verbose_name = _('Checkpoints')
        status_columns = ('status',)
        row_class = CheckpointRow
        table_actions = (CheckpointFilter, DeleteCheckpoint)
        row_actions = (Verify, Restore, DeleteCheckpoint)


def first_provider(request):
    """/checkpoints/ without a provider: the first provider's list."""
    providers = common.providers(request)
    if not providers:
        return shortcuts.render(request, 'karbor_horizon/checkpoints.html',
                                {'page_title': _('Checkpoints')})
    return shortcuts.redirect(INDEX, provider_id=providers[0].id)


class IndexView(tables.DataTableView):
    table_class = CheckpointsTable
    template_name = 'karbor_horizon/checkpoints.html'
    page_title = _('Checkpoints')

    def get_data(self):
        return common.fetch(
            self.request, _('Unable to list checkpoints'),
            lambda: api.listing(self.request,
                                _path(self.kwargs['provider_id']),
                                'checkpoints'), [])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context['providers'] = common.providers(self.request)
        context['provider_id'] = self.kwargs['provider_id']
        return context


class DetailView(views.HorizonTemplateView):
    template_name = 'karbor_horizon/detail.html'
    page_title = _('Checkpoint')

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            checkpoint = api.get(self.request, _path(kwargs['provider_id'],
                                                     kwargs['checkpoint_id']),
                                 'checkpoint')
        except api.KarborError as exc:
            exceptions.handle(self.request, _('Unable to show the '
                                              'checkpoint: %s') % exc.message,
                              redirect=reverse(INDEX, args=(
                                  kwargs['provider_id'],)))
        context['page_title'] = _('Checkpoint %s') % checkpoint.id
        context['fields'] = common.fields(
            (_('ID'), checkpoint.id), (_('Status'), checkpoint.status),
            (_('Plan'), '%(name)s (%(id)s)' % checkpoint.protection_plan),
            (_('Created'), checkpoint.created_at),
            (_('Error'), checkpoint.get('error_reason') or '-'),
            (_('Last verification'), '%s at %s' % (
                _last_verification(checkpoint),
                checkpoint.get('last_verified_at') or '-')),
            (_('Resource graph'), common.pretty(
                common.loads(checkpoint.resource_graph))),
            (_('Extra info'), common.pretty(checkpoint.extra_info)))
        context['resources'] = common.resource_rows(checkpoint)
        context['poll'] = checkpoint.status not in SETTLED
        return context


class RestoreForm(forms.SelfHandlingForm):
    """Restore a checkpoint; one field per restore_schema property."""

    def __init__(self, request, *args, **kwargs):
        self.provider_id = kwargs.pop('provider_id')
        self.checkpoint_id = kwargs.pop('checkpoint_id')
        super().__init__(request, *args, **kwargs)
        provider = common.fetch(
            request, _('Unable to read the provider'),
            lambda: api.get(request, '/providers/%s' % self.provider_id,
                            'provider'), None)
        checkpoint = common.fetch(
            request, _('Unable to read the checkpoint'),
            lambda: api.get(request, _path(self.provider_id,
                                           self.checkpoint_id),
                            'checkpoint'), None)
        schemas = ((provider or {}).get('extended_info_schema') or {}).get(
            'restore_schema') or {}
        kinds = sorted({r['type'] for r in
                        (checkpoint or {}).get('protection_plan', {}).get(
                            'resources', [])})
        self.schema_fields = common.schema_fields(self, schemas, kinds)

    def handle(self, request, data):
        parameters = common.schema_values(self.schema_fields, data)
        try:
            api.create(request, '/restores', 'restore', {
                'provider_id': self.provider_id,
                'checkpoint_id': self.checkpoint_id,
                'parameters': parameters})
        except api.KarborError as exc:
            messages.error(request, _('Unable to restore: %s') % exc.message)
            return False
        messages.success(request, _('Restoring checkpoint %s.')
                         % self.checkpoint_id)
        return True


class RestoreView(forms.ModalFormView):
    form_class = RestoreForm
    form_id = 'restore_checkpoint_form'
    modal_id = 'restore_checkpoint_modal'
    page_title = _('Restore Checkpoint')
    template_name = 'karbor_horizon/form.html'
    ajax_template_name = 'horizon/common/_modal_form.html'
    submit_label = _('Restore')

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(provider_id=self.kwargs['provider_id'],
                      checkpoint_id=self.kwargs['checkpoint_id'])
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context['submit_url'] = reverse(
            'horizon:project:karbor_checkpoints:restore',
            args=(self.kwargs['provider_id'], self.kwargs['checkpoint_id']))
        return context

    def get_success_url(self):
        return reverse('horizon:project:karbor_restores:index')
