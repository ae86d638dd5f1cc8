"""The OS::Karbor::Directory protectable: a project's directories.

A project's instances are the immediate sub-directories of
``<[directory] root_path>/<project_id>``. Each one's id is a UUID derived
from the project id and the directory's name, so it is stable across
restarts and differs between projects even for equal names.

Resource names come back from tenants (plans, restore requests), so a
path is always found again from an id, by scanning the project's
directory, never built from a name.
"""

import os
import uuid

from karbor.conf import CONF
from karbor import exception
from karbor.services.protection.plugins import base
from karbor.services.protection import resource as resource_mod

RESOURCE_TYPE = 'OS::Karbor::Directory'

# Fixed forever: changing it changes every directory's id.
ID_NAMESPACE = uuid.UUID('5b0f4d52-8a36-4c1e-9d57-0e6a2c3b7f19')

# Hidden working directories of restores in progress; never instances.
TEMP_PREFIX = '.karbor-'


def validate_project_id(project_id):
    """A project id usable as one path segment (and one bank segment)."""
    if (not isinstance(project_id, str) or not project_id or
            project_id in ('.', '..') or project_id.startswith('.') or
            '/' in project_id or '\\' in project_id or
            '\0' in project_id or len(project_id) > 255):
        raise exception.Invalid('Invalid project id: %r' % (project_id,))
    return project_id


def project_dir(project_id):
    """``<root_path>/<project_id>``, whether or not it exists."""
    root = os.path.abspath(CONF.directory.root_path)
    return os.path.join(root, validate_project_id(project_id))


def resource_id(project_id, name):
    """The id of the directory ``name`` of ``project_id``."""
    return str(uuid.uuid5(ID_NAMESPACE, '%s/%s' % (project_id, name)))


def list_directories(project_id):
    """[(name, id, path)] of the project's directories, sorted by name.

    Symbolic links are not instances, even to directories: following one
    could lead out of the project's directory.
    """
    top = project_dir(project_id)
    found = []
    try:
        entries = list(os.scandir(top))
    except (FileNotFoundError, NotADirectoryError):
        return []
    for entry in entries:
        if entry.name.startswith(TEMP_PREFIX):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
        except OSError:
            continue
        found.append((entry.name, resource_id(project_id, entry.name),
                      entry.path))
    found.sort()
    return found


def resolve(project_id, res_id):
    """(name, path) of the project's directory whose id is ``res_id``.

    Raises ProtectableResourceNotFound for an unknown id, including the id
    of another project's directory.
    """
    for name, candidate, path in list_directories(project_id):
        if candidate == res_id:
            return name, path
    raise exception.ProtectableResourceNotFound(type=RESOURCE_TYPE,
                                                id=res_id)


def _project_of(context):
    project_id = getattr(context, 'project_id', None)
    if not project_id:
        raise exception.Invalid('The request has no project.')
    return project_id


class DirectoryProtectable(base.ProtectablePlugin):
    """Lists the directories of the context's project."""

    def get_resource_type(self):
        return RESOURCE_TYPE

    def list_resources(self, context, parameters=None):
        project_id = _project_of(context or self.context)
        return [resource_mod.Resource(type=RESOURCE_TYPE, id=res_id,
                                      name=name, extra_info=None)
                for name, res_id, _path in list_directories(project_id)]

    def show_resource(self, context, resource_id, parameters=None):
        project_id = _project_of(context or self.context)
        name, _path = resolve(project_id, resource_id)
        return resource_mod.Resource(type=RESOURCE_TYPE, id=resource_id,
                                     name=name, extra_info=None)
