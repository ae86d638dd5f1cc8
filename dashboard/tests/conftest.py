"""Horizon's own test settings, so the plugin's modules import as in
a running Horizon (they read django.conf.settings)."""

import os

import django

os.environ.setdefault('DJANGO_SETTINGS_MODULE',
                      'openstack_dashboard.test.settings')
django.setup()
