"""Scheduled operations (a plan's protect or verify on a trigger)."""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from horizon import forms
from horizon import messages
from horizon import tables

from karbor_horizon import api
from karbor_horizon import common

INDEX = 'horizon:project:karbor_scheduled_operations:index'
TYPES = (('protect', _('Protect')),
         ('retention_protect', _('Protect, keeping the latest checkpoints')),
         ('verify', _('Verify the latest checkpoint')))


class CreateOperation(tables.LinkAction):
    name = 'create'
    verbose_name = _('Schedule Operation')
    url = 'horizon:project:karbor_scheduled_operations:create'
    classes = ('ajax-modal',)
    icon = 'plus'
    policy_rules = common.rules('scheduled_operation:create')


class DeleteOperation(tables.DeleteAction):
    policy_rules = common.rules('scheduled_operation:delete')

    @staticmethod
    def action_present(count):
        return ngettext_lazy('Delete Scheduled Operation',
                             'Delete Scheduled Operations', count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy('Deleted Scheduled Operation',
                             'Deleted Scheduled Operations', count)

    def delete(self, request, obj_id):
        common.act(request, lambda: api.delete(
            request, '/scheduled_operations/%s' % obj_id))


class OperationsTable(tables.DataTable):
    name = tables.Column('name', verbose_name=_('Name'))
    type = tables.Column('operation_type', verbose_name=_('Type'))
    plan = tables.Column(lambda o: o.operation_definition.get('plan_id'),
                         verbose_name=_('Plan'))
    trigger = tables.Column('trigger_id', verbose_name=_('Trigger'))
    enabled = tables.Column('enabled', verbose_name=_('Enabled'))
    next_run = tables.Column('next_run_at', verbose_name=_('Next run'))
    last_run = tables.Column(
        lambda o: '%s %s' % (o.last_run_result or '-',
                             o.last_run_reason or ''),
        verbose_name=_('Last run'))

    class Meta(object):
        name = 'scheduled_operations'
        verbose_name = _('Scheduled Operations')
        table_actions = (CreateOperation, DeleteOperation)
        row_actions = (DeleteOperation,)


class IndexView(tables.DataTableView):
    table_class = OperationsTable
    page_title = _('Scheduled Operations')

    def get_data(self):
        return common.fetch(
            self.request, _('Unable to list scheduled operations'),
            lambda: api.listing(self.request, '/scheduled_operations',
                                'operations'), [])


class CreateOperationForm(forms.SelfHandlingForm):
    name = forms.CharField(label=_('Name'), max_length=255)
    operation_type = forms.ThemableChoiceField(label=_('Operation'),
                                               choices=TYPES)
    plan = forms.ThemableChoiceField(label=_('Plan'))
    trigger_id = forms.ThemableChoiceField(label=_('Trigger'))
    max_backups = forms.IntegerField(
        label=_('Checkpoints to keep'), required=False, min_value=1,
        help_text=_('For "keeping the latest checkpoints" only.'))

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        plans = common.fetch(request, _('Unable to list plans'),
                             lambda: api.listing(request, '/plans', 'plans'),
                             [])
        # provider|plan: the definition needs both.
        self.fields['plan'].choices = [
            ('%s|%s' % (p.provider_id, p.id), p.name) for p in plans]
        triggers = common.fetch(
            request, _('Unable to list triggers'),
            lambda: api.listing(request, '/triggers', 'triggers'), [])
        self.fields['trigger_id'].choices = [(t.id, t.name)
                                             for t in triggers]

    def handle(self, request, data):
        provider_id, plan_id = data['plan'].split('|', 1)
        definition = {'provider_id': provider_id, 'plan_id': plan_id}
        if data['operation_type'] == 'retention_protect' and \
                data.get('max_backups'):
            definition['max_backups'] = data['max_backups']
        try:
            operation = api.create(
                request, '/scheduled_operations', 'scheduled_operation', {
                    'name': data['name'],
                    'operation_type': data['operation_type'],
                    'trigger_id': data['trigger_id'],
                    'operation_definition': definition})
        except api.KarborError as exc:
            messages.error(request, _('Unable to schedule the operation: '
                                      '%s') % exc.message)
            return False
        messages.success(request, _('Scheduled "%s".') % operation.name)
        return operation


class CreateView(forms.ModalFormView):
    form_class = CreateOperationForm
    form_id = 'create_scheduled_operation_form'
    modal_id = 'create_scheduled_operation_modal'
    page_title = _('Schedule Operation')
    template_name = 'karbor_horizon/form.html'
    ajax_template_name = 'horizon/common/_modal_form.html'
    submit_label = _('Schedule')
    submit_url = reverse_lazy(
        'horizon:project:karbor_scheduled_operations:create')
    success_url = reverse_lazy(INDEX)
