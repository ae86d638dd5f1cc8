"""Option names and defaults are part of the operator contract."""

import os

from oslo_db import options as db_options

from karbor.conf import CONF
from karbor.conf import opts


def test_contract_option_names_and_defaults():
    assert CONF.osapi_karbor_listen_port == 8799
    assert CONF.auth_strategy == 'noauth'
    assert CONF.api_paste_config == 'api-paste.ini'
    state = CONF.state_path
    # The default itself: the tests may run on another database.
    (connection,) = [opt for opt in db_options.database_opts
                     if opt.name == 'connection']
    assert connection.default == 'sqlite:///$state_path/karbor.sqlite'
    assert CONF.file_system_bank_plugin.file_system_bank_path == \
        os.path.join(state, 'bank')
    assert CONF.directory.root_path == os.path.join(state, 'data')
    for name in ('osapi_karbor_listen', 'osapi_karbor_workers',
                 'transport_url'):
        assert name in CONF


def test_every_option_is_documented():
    for group, options in opts.list_opts():
        for opt in options:
            assert opt.help, '%s has no help' % opt.name


def test_provider_dir_found_without_configuration():
    assert os.path.isfile(os.path.join(CONF.provider.config_dir,
                                       'local-directory.conf'))


def test_rabbitmq_queues_survive_a_broker_restart():
    # Durable queues and persistent messages: requests queued for the
    # protection services are not lost when RabbitMQ restarts.
    assert CONF.oslo_messaging_rabbit.amqp_durable_queues is True


def test_database_pool_holds_every_api_thread():
    # A connection opened beyond max_pool_size is closed when returned:
    # a pool smaller than an API worker's threads makes PostgreSQL start
    # a backend per request in bursts.
    (pool_size,) = [opt for opt in db_options.database_opts
                    if opt.name == 'max_pool_size']
    assert pool_size.default >= CONF.osapi_karbor_threads
