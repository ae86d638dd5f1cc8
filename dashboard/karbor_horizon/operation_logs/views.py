"""Operation logs: a filtered, paged list, a timeline and a detail view.

Plain templates rather than a DataTable: the filters, the "next page"
link (which must keep them) and the timeline share one query string.
"""

from django import forms as django_forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import views

from karbor_horizon import api
from karbor_horizon import common

INDEX = 'horizon:project:karbor_operation_logs:index'
PAGE_SIZE = 20
TIMELINE_SIZE = 200
TYPES = ('protect', 'delete', 'restore', 'verify')
STATUSES = ('available', 'deleted', 'deleting', 'error', 'error-deleting',
            'error-restoring', 'protecting', 'restored', 'restoring',
            'success', 'verifying')


def _choices(values):
    return [('', _('Any'))] + [(value, value) for value in values]


class FilterForm(django_forms.Form):
    operation_type = django_forms.ChoiceField(
        label=_('Type'), required=False, choices=_choices(TYPES))
    status = django_forms.ChoiceField(label=_('Status'), required=False,
                                      choices=_choices(STATUSES))
    plan_id = django_forms.UUIDField(label=_('Plan ID'), required=False)
    checkpoint_id = django_forms.UUIDField(label=_('Checkpoint ID'),
                                           required=False)
    started_after = django_forms.DateField(
        label=_('Started on or after'), required=False,
        widget=django_forms.DateInput(attrs={'type': 'date'}))
    started_before = django_forms.DateField(
        label=_('Started before'), required=False,
        widget=django_forms.DateInput(attrs={'type': 'date'}))

    def filters(self):
        if not self.is_valid():
            return {}
        return {name: str(value) for name, value in self.cleaned_data.items()
                if value not in (None, '')}


class IndexView(views.HorizonTemplateView):
    template_name = 'karbor_horizon/operation_logs.html'
    page_title = _('Operation Logs')

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.request
        form = FilterForm(request.GET or None)
        filters = form.filters()
        marker = request.GET.get('marker') or None
        what = _('Unable to list operation logs')
        page = common.fetch(request, what, lambda: api.listing(
            request, '/operation_logs', 'operation_logs',
            limit=PAGE_SIZE + 1, marker=marker, **filters), [])
        # The timeline shows the latest operations matching the filters,
        # whatever page of the list is open.
        timeline = common.fetch(request, what, lambda: api.listing(
            request, '/operation_logs', 'operation_logs',
            limit=TIMELINE_SIZE, **filters), []) if page else []
        query = request.GET.copy()
        query.pop('marker', None)
        context.update(
            form=form, logs=page[:PAGE_SIZE], query=query.urlencode(),
            next_marker=page[PAGE_SIZE - 1].id
            if len(page) > PAGE_SIZE else None,
            first_page=marker is not None,
            timeline=[{'id': log.id, 'type': log.operation_type,
                       'status': log.status, 'started_at': log.started_at,
                       'ended_at': log.ended_at,
                       'url': reverse('horizon:project:karbor_operation_logs:'
                                      'detail', args=(log.id,))}
                      for log in timeline],
            poll=any(log.ended_at is None for log in page))
        return context


class DetailView(views.HorizonTemplateView):
    template_name = 'karbor_horizon/detail.html'
    page_title = _('Operation Log')

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            log = api.get(self.request, '/operation_logs/%s' % kwargs[
                'operation_log_id'], 'operation_log')
        except api.KarborError as exc:
            exceptions.handle(self.request, _('Unable to show the operation '
                                              'log: %s') % exc.message,
                              redirect=reverse(INDEX))
        context['page_title'] = _('%(type)s %(status)s') % {
            'type': log.operation_type, 'status': log.status}
        context['fields'] = common.fields(
            (_('ID'), log.id), (_('Type'), log.operation_type),
            (_('Status'), log.status),
            (_('Started'), log.started_at), (_('Ended'), log.ended_at or '-'),
            (_('Plan'), log.plan_id or '-'),
            (_('Checkpoint'), log.checkpoint_id or '-'),
            (_('Restore'), log.restore_id or '-'),
            (_('Verification'), log.verification_id or '-'),
            (_('Scheduled operation'), log.scheduled_operation_id or '-'),
            (_('Error info'), log.error_info or '-'),
            (_('Extra info'), common.pretty(log.extra_info or {})))
        context['poll'] = log.ended_at is None
        return context
