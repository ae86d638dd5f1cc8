"""Protection plans: list, create, show, delete and "Protect now"."""

import json

from django.urls import reverse
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from horizon import exceptions
from horizon import forms
from horizon import messages
from horizon import tables
from horizon import views

from karbor_horizon import api
from karbor_horizon import common

INDEX = 'horizon:project:karbor_plans:index'


def _resources(plan):
    return ', '.join('%s (%s)' % (r['name'], r['type'])
                     for r in plan.get('resources', []))


class CreatePlan(tables.LinkAction):
    name = 'create'
    verbose_name = _('Create Plan')
    url = 'horizon:project:karbor_plans:create'
    classes = ('ajax-modal',)
    icon = 'plus'
    policy_rules = common.rules('plan:create')


class ProtectNow(tables.BatchAction):
    name = 'protect'
    icon = 'shield'
    policy_rules = common.rules('checkpoint:create')

    @staticmethod
    def action_present(count):
        return ngettext_lazy('Protect Now', 'Protect Now', count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy('Started protecting plan',
                             'Started protecting plans', count)

    def action(self, request, obj_id):
        plan = self.table.get_object_by_id(obj_id)
        common.act(request, lambda: api.create(
            request, '/providers/%s/checkpoints' % plan.provider_id,
            'checkpoint', {'plan_id': obj_id}))


class DeletePlan(tables.DeleteAction):
    policy_rules = common.rules('plan:delete')

    @staticmethod
    def action_present(count):
        return ngettext_lazy('Delete Plan', 'Delete Plans', count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy('Deleted Plan', 'Deleted Plans', count)

    def delete(self, request, obj_id):
        common.act(request, lambda: api.delete(request,
                                               '/plans/%s' % obj_id))


class PlansTable(tables.DataTable):
    name = tables.WrappingColumn('name', verbose_name=_('Name'),
                                 link='horizon:project:karbor_plans:detail')
    resources = tables.Column(_resources, verbose_name=_('Resources'))
    provider = tables.Column('provider_id', verbose_name=_('Provider'))
    status = common.status_column(verbose_name=_('Status'))

    class Meta(object):
        name = 'plans'
        verbose_name = _('Protection Plans')
        status_columns = ('status',)
        table_actions = (CreatePlan, DeletePlan)
        row_actions = (ProtectNow, DeletePlan)


class IndexView(tables.DataTableView):
    table_class = PlansTable
    page_title = _('Protection Plans')

    def get_data(self):
        return common.fetch(self.request, _('Unable to list plans'),
                            lambda: api.listing(self.request, '/plans',
                                                'plans'), [])


class DetailView(views.HorizonTemplateView):
    template_name = 'karbor_horizon/detail.html'
    page_title = _('Plan')

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            plan = api.get(self.request, '/plans/%s' % kwargs['plan_id'],
                           'plan')
        except api.KarborError as exc:
            exceptions.handle(self.request, _('Unable to show the plan: %s')
                              % exc.message, redirect=reverse(INDEX))
        context['page_title'] = plan.name
        context['fields'] = common.fields(
            (_('ID'), plan.id), (_('Status'), plan.status),
            (_('Provider'), plan.provider_id),
            (_('Description'), plan.get('description') or '-'),
            (_('Resources'), _resources(plan)),
            (_('Parameters'), common.pretty(plan.get('parameters', {}))))
        return context


class CreatePlanForm(forms.SelfHandlingForm):
    name = forms.CharField(label=_('Name'), max_length=255)
    description = forms.CharField(label=_('Description'), required=False,
                                  widget=forms.Textarea(attrs={'rows': 2}))
    provider_id = forms.ThemableChoiceField(label=_('Provider'))
    resources = forms.MultipleChoiceField(
        label=_('Resources to protect'),
        widget=forms.ThemableCheckboxSelectMultiple())
    parameters = forms.CharField(
        label=_('More parameters'), required=False,
        widget=forms.Textarea(attrs={'rows': 3}),
        help_text=_('Optional: a JSON object keyed by resource type, or by '
                    'type#id for one resource, checked against the options '
                    'schema of the provider. It adds to the fields below.'))

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        providers = common.providers(request)
        self.fields['provider_id'].choices = [(p.id, p.name)
                                              for p in providers]
        choices = []
        types = common.fetch(request, _('Unable to list protectable types'),
                             lambda: api.call(request, 'GET',
                                              '/protectables'), None)
        kinds = sorted((types or {}).get('protectable_type', []))
        # The options of each provider's schemas, as fields; only those of
        # the provider chosen are sent.
        self.option_fields = {
            provider.id: common.schema_fields(
                self, (provider.get('extended_info_schema') or {}).get(
                    'options_schema') or {}, kinds, prefix='o%d_' % index)
            for index, provider in enumerate(providers)}
        for kind in kinds:
            instances = common.fetch(
                request, _('Unable to list %s instances') % kind,
                lambda: api.listing(request,
                                    '/protectables/%s/instances' % kind,
                                    'instances'), [])
            choices.extend((json.dumps([kind, i.id, i.name]),
                            '%s (%s)' % (i.name, kind)) for i in instances)
        self.fields['resources'].choices = choices

    def clean_parameters(self):
        text = self.cleaned_data['parameters'].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(_('Not JSON: %s') % exc)
        if not isinstance(value, dict):
            raise forms.ValidationError(_('Must be a JSON object.'))
        return value

    def handle(self, request, data):
        resources = [dict(zip(('type', 'id', 'name'), json.loads(choice)))
                     for choice in data['resources']]
        parameters = common.schema_values(
            self.option_fields.get(data['provider_id'], {}), data)
        for key, values in data['parameters'].items():
            if isinstance(values, dict):
                parameters.setdefault(key, {}).update(values)
            else:
                parameters[key] = values
        try:
            plan = api.create(request, '/plans', 'plan', {
                'name': data['name'], 'description': data['description'],
                'provider_id': data['provider_id'], 'resources': resources,
                'parameters': parameters})
        except api.KarborError as exc:
            messages.error(request, _('Unable to create the plan: %s')
                           % exc.message)
            return False
        messages.success(request, _('Created plan "%s".') % plan.name)
        return plan


class CreateView(forms.ModalFormView):
    form_class = CreatePlanForm
    form_id = 'create_plan_form'
    modal_id = 'create_plan_modal'
    page_title = _('Create Plan')
    template_name = 'karbor_horizon/form.html'
    ajax_template_name = 'horizon/common/_modal_form.html'
    submit_label = _('Create Plan')
    submit_url = reverse_lazy('horizon:project:karbor_plans:create')
    success_url = reverse_lazy(INDEX)
