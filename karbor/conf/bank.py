"""Options of the bank plugins that store checkpoints."""

from oslo_config import cfg

file_system_bank_group = cfg.OptGroup(
    'file_system_bank_plugin',
    help='The file-system bank keeps checkpoint objects as files.')

file_system_bank_opts = [
    cfg.StrOpt('file_system_bank_path',
               default='$state_path/bank',
               help='Directory holding the objects of the file-system '
                    'bank. Any deployment pointed at the same directory '
                    'sees the same checkpoints.'),
]


def register_opts(conf):
    conf.register_group(file_system_bank_group)
    conf.register_opts(file_system_bank_opts, group=file_system_bank_group)


def list_opts():
    return [(file_system_bank_group, file_system_bank_opts)]
