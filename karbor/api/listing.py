"""The list helper every collection uses: limit, marker, sort, filters.

``parse()`` turns a request's query string into a ``ListQuery``, refusing
(400) anything it does not know; objects apply the query to their select
through ``karbor.db.pagination``; ``links()`` builds the next-page link.
"""

import dataclasses
import urllib.parse

from oslo_utils import strutils
from oslo_utils import uuidutils

from karbor.api import middleware
from karbor.conf import CONF
from karbor import exception
from karbor.policies import base as base_policies
from karbor import policy

_PAGING_PARAMS = {'limit', 'marker', 'sort', 'sort_key', 'sort_dir'}
# What the ``ignore`` converter returns: accepted, but not filtered on.
IGNORED = object()
_TENANT_PARAMS = {'all_tenants', 'project_id'}
_DIRECTIONS = ('asc', 'desc')
# The largest value of a signed 64-bit integer column.
MAX_INT = 2 ** 63 - 1


def is_int_id(value):
    """Whether ``value`` is an integer id the database can hold: ASCII
    digits only (str.isdigit() also takes '²', which int() refuses)."""
    return (value.isascii() and value.isdigit() and
            int(value) <= MAX_INT)


@dataclasses.dataclass
class ListQuery:
    limit: int
    marker: object = None
    sort: list = dataclasses.field(default_factory=list)
    filters: dict = dataclasses.field(default_factory=dict)
    # None only when an admin lists every project's rows.
    project_id: str | None = None


def _parse_limit(value):
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise exception.InvalidInput(field='limit',
                                     reason='must be an integer')
    if limit < 0:
        raise exception.InvalidInput(field='limit',
                                     reason='must not be negative')
    return limit


def _parse_sort(params, sort_keys):
    if 'sort' in params and ('sort_key' in params or 'sort_dir' in params):
        raise exception.InvalidInput(
            field='sort', reason='sort cannot be combined with the '
                                 'deprecated sort_key/sort_dir')
    if 'sort' in params:
        pairs = []
        for item in params['sort'].split(','):
            key, _, direction = item.strip().partition(':')
            pairs.append((key.strip(), direction.strip() or 'asc'))
    elif 'sort_key' in params or 'sort_dir' in params:
        keys = params.get('sort_key', sort_keys[0]).split(',')
        direction = params.get('sort_dir', 'asc')
        pairs = [(key.strip(), direction) for key in keys]
    else:
        return None
    for key, direction in pairs:
        if key not in sort_keys:
            raise exception.InvalidInput(
                field='sort', reason='unknown sort key %r; valid keys are '
                                     '%s' % (key, ', '.join(sort_keys)))
        if direction not in _DIRECTIONS:
            raise exception.InvalidInput(
                field='sort', reason='sort direction must be asc or desc, '
                                     'not %r' % direction)
    return pairs


def parse(req, sort_keys, default_sort, filters=None, project_scoped=True,
          marker_type='uuid'):
    """Read the list parameters of ``req``.

    :param sort_keys: the sortable keys; anything else is a 400.
    :param default_sort: [(key, dir)] used without a sort parameter.
    :param filters: {name: converter}; a converter takes the string value
        and returns the value to filter on or raises InvalidInput.
    :param project_scoped: rows belong to projects: honour all_tenants and
        project_id (admins only) and otherwise list the URL's project.
    :param marker_type: 'uuid' or 'int', the type of the id column.
    """
    filters = filters or {}
    params = dict(req.GET.items())
    allowed = _PAGING_PARAMS | set(filters)
    if project_scoped:
        allowed |= _TENANT_PARAMS
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise exception.InvalidInput(
            field=unknown[0], reason='unknown filter or parameter')

    limit = CONF.osapi_max_limit
    if 'limit' in params:
        limit = min(_parse_limit(params['limit']), limit)

    marker = params.get('marker')
    if marker is not None:
        if marker_type == 'int':
            if not is_int_id(marker):
                raise exception.InvalidInput(
                    field='marker',
                    reason='must be an integer from 0 to %d' % MAX_INT)
            marker = int(marker)
        elif not uuidutils.is_uuid_like(marker):
            raise exception.InvalidInput(field='marker',
                                         reason='must be a UUID')

    query = ListQuery(limit=limit, marker=marker,
                      sort=_parse_sort(params, sort_keys) or
                      list(default_sort))
    for name, convert in filters.items():
        if name in params:
            value = convert(name, params[name])
            if value is not IGNORED:
                query.filters[name] = value

    if project_scoped:
        ctx = req.environ[middleware.CONTEXT_KEY]
        query.project_id = req.urlvars.get('project_id', ctx.project_id)
        all_tenants = False
        if 'all_tenants' in params:
            try:
                all_tenants = strutils.bool_from_string(
                    params['all_tenants'], strict=True)
            except ValueError:
                raise exception.InvalidInput(field='all_tenants',
                                             reason='must be a boolean')
        wanted = params.get('project_id')
        if all_tenants or (wanted is not None and
                           wanted != query.project_id):
            policy.authorize(ctx, base_policies.ALL_TENANTS)
            query.project_id = wanted
    return query


def links(req, collection, items, query, id_key='id'):
    """``{collection}_links`` with a next href when the page is full."""
    if not items or len(items) < query.limit:
        return {}
    params = [(k, v) for k, v in req.GET.items() if k != 'marker']
    params.append(('marker', str(items[-1][id_key])))
    href = '%s?%s' % (req.path_url, urllib.parse.urlencode(params))
    return {'%s_links' % collection: [{'rel': 'next', 'href': href}]}


def paginate_in_memory(items, query, id_key='id'):
    """Apply ``query`` to a list of dicts (for resources not in the DB)."""
    for name, value in query.filters.items():
        items = [item for item in items if item.get(name) == value]
    sort = list(query.sort)
    if id_key not in [key for key, _ in sort]:
        sort.append((id_key, sort[0][1] if sort else 'asc'))
    # Stable sorts applied from the last key to the first.
    for key, direction in reversed(sort):
        items = sorted(items, key=lambda item: (item.get(key) is None,
                                                item.get(key) or ''),
                       reverse=(direction == 'desc'))
    if query.marker is not None:
        ids = [str(item[id_key]) for item in items]
        if str(query.marker) not in ids:
            raise exception.InvalidInput(
                field='marker', reason='%s was not found' % query.marker)
        items = items[ids.index(str(query.marker)) + 1:]
    return items[:query.limit]


def exact(name, value):
    """Filter converter: match the string as given."""
    return value


def uuid(name, value):
    """Filter converter: the value must be a UUID."""
    if not uuidutils.is_uuid_like(value):
        raise exception.InvalidInput(field=name, reason='must be a UUID')
    return value


def one_of(*choices):
    """Filter converter factory: the value must be one of ``choices``."""
    def convert(name, value):
        if value not in choices:
            raise exception.InvalidInput(
                field=name, reason='must be one of %s' % ', '.join(choices))
        return value
    return convert


def boolean(name, value):
    """Filter converter: true/false, 1/0, yes/no."""
    try:
        return strutils.bool_from_string(value, strict=True)
    except ValueError:
        raise exception.InvalidInput(field=name, reason='must be a boolean')


def ignore(name, value):
    """Filter converter of a parameter the released clients send but the
    API does not filter on (such as a trigger's ``properties``)."""
    return IGNORED
