"""Options of the REST API service."""

from oslo_config import cfg

opts = [
    cfg.HostAddressOpt('osapi_karbor_listen',
                       default='127.0.0.1',
                       help='IP address on which the Karbor API listens. '
                            'The embedded default is loopback only; set '
                            '0.0.0.0 to serve other hosts.'),
    cfg.PortOpt('osapi_karbor_listen_port',
                default=8799,
                help='Port on which the Karbor API listens.'),
    cfg.IntOpt('osapi_karbor_workers',
               min=1,
               help='Number of API worker processes started by karbor-api '
                    '(the all-in-one karbor-all always uses one process). '
                    'Defaults to the number of CPUs.'),
    cfg.IntOpt('osapi_karbor_threads',
               default=8,
               min=1,
               help='Request-handling threads per API worker.'),
    cfg.StrOpt('auth_strategy',
               default='noauth',
               choices=[('noauth', 'Trust an "X-Auth-Token: USER:PROJECT" '
                                   'header; for development and the '
                                   'embedded service only.'),
                        ('keystone', 'Validate Keystone tokens with '
                                     'keystonemiddleware auth_token.')],
               help='How API requests are authenticated.'),
    cfg.StrOpt('api_paste_config',
               default='api-paste.ini',
               help='File name of the paste.deploy configuration of the '
                    'API pipeline. A relative name is looked up next to '
                    'the configuration files, then in /etc/karbor, the '
                    'installation prefix\'s etc/karbor and the source '
                    'tree\'s etc/karbor.'),
    cfg.IntOpt('osapi_max_limit',
               default=1000,
               min=1,
               help='Largest page any list returns; a larger or missing '
                    '"limit" is cut down to this.'),
    cfg.IntOpt('osapi_max_request_body_size',
               default=114688,
               min=1,
               help='Largest request body, in bytes, the API accepts; '
                    'larger bodies get 413.'),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return [('DEFAULT', opts)]
