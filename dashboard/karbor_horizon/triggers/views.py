"""Time triggers: list, create, delete."""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from horizon import forms
from horizon import messages
from horizon import tables

from karbor_horizon import api
from karbor_horizon import common

INDEX = 'horizon:project:karbor_triggers:index'


class CreateTrigger(tables.LinkAction):
    name = 'create'
    verbose_name = _('Create Trigger')
    url = 'horizon:project:karbor_triggers:create'
    classes = ('ajax-modal',)
    icon = 'plus'
    policy_rules = common.rules('trigger:create')


class DeleteTrigger(tables.DeleteAction):
    policy_rules = common.rules('trigger:delete')

    @staticmethod
    def action_present(count):
        return ngettext_lazy('Delete Trigger', 'Delete Triggers', count)

    @staticmethod
    def action_past(count):
        return ngettext_lazy('Deleted Trigger', 'Deleted Triggers', count)

    def delete(self, request, obj_id):
        common.act(request, lambda: api.delete(request,
                                               '/triggers/%s' % obj_id))


class TriggersTable(tables.DataTable):
    name = tables.Column('name', verbose_name=_('Name'))
    format = tables.Column(lambda t: t.properties.get('format'),
                           verbose_name=_('Format'))
    pattern = tables.Column(lambda t: t.properties.get('pattern'),
                            verbose_name=_('Pattern'))
    window = tables.Column(lambda t: t.properties.get('window') or '-',
                           verbose_name=_('Window (s)'))
    created = tables.Column('created_at', verbose_name=_('Created'))

    class Meta(object):
        name = 'triggers'
        verbose_name = _('Triggers')
        table_actions = (CreateTrigger, DeleteTrigger)
        row_actions = (DeleteTrigger,)


class IndexView(tables.DataTableView):
    table_class = TriggersTable
    page_title = _('Triggers')

    def get_data(self):
        return common.fetch(self.request, _('Unable to list triggers'),
                            lambda: api.listing(self.request, '/triggers',
                                                'triggers'), [])


class CreateTriggerForm(forms.SelfHandlingForm):
    name = forms.CharField(label=_('Name'), max_length=255)
    format = forms.ThemableChoiceField(
        label=_('Format'), choices=[('crontab', _('crontab')),
                                    ('calendar', _('iCalendar RRULE'))])
    pattern = forms.CharField(
        label=_('Pattern'), max_length=4096,
        help_text=_('crontab: five fields, such as 0 2 * * * for 02:00 '
                    'every day; calendar: a VEVENT with an RRULE, such as '
                    'RRULE:FREQ=DAILY.'))
    window = forms.IntegerField(
        label=_('Window (seconds)'), required=False, min_value=1,
        help_text=_('How late a run may still start.'))

    def handle(self, request, data):
        properties = {'format': data['format'], 'pattern': data['pattern']}
        if data.get('window'):
            properties['window'] = data['window']
        try:
            trigger = api.create(request, '/triggers', 'trigger_info', {
                'name': data['name'], 'type': 'time',
                'properties': properties})
        except api.KarborError as exc:
            messages.error(request, _('Unable to create the trigger: %s')
                           % exc.message)
            return False
        messages.success(request, _('Created trigger "%s".') % trigger.name)
        return trigger


class CreateView(forms.ModalFormView):
    form_class = CreateTriggerForm
    form_id = 'create_trigger_form'
    modal_id = 'create_trigger_modal'
    page_title = _('Create Trigger')
    template_name = 'karbor_horizon/form.html'
    ajax_template_name = 'horizon/common/_modal_form.html'
    submit_label = _('Create Trigger')
    submit_url = reverse_lazy('horizon:project:karbor_triggers:create')
    success_url = reverse_lazy(INDEX)
