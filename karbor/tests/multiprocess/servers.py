"""Private PostgreSQL, RabbitMQ and Karbor processes for tests and benchmarks.

Everything here is plain Python (no pytest), so that benchmarks/load.py can
start the same deployment the multi-process tests run against. Each server
lives in a directory of its own, listens on free loopback ports and is gone
after ``stop()``; nothing is written outside its directory, except that a
PostgreSQL cluster made as root lives in a temporary directory the
``postgres`` account can enter, which ``cleanup()`` removes.

    postgres = PostgreSQL(workdir / 'postgresql')
    postgres.start()                  # initdb, then the server
    postgres.url                      # postgresql+psycopg2://karbor:...
    rabbit = RabbitMQ(workdir / 'rabbitmq')
    rabbit.start()                    # stop() and start() again keep
    rabbit.url                        # its ports, user and queues
    karbor = Deployment(workdir / 'karbor', postgres.url, rabbit.url)
    karbor.start()                    # db sync, karbor-api (gunicorn),
                                      # 2 karbor-protection, 2 engines
    karbor.protection[0].kill()       # SIGKILL; .start() brings it back
    karbor.stop(); rabbit.stop(); postgres.cleanup()

``Deployment`` offers what the e2e suite's ``KarborServer`` does (url,
endpoint(), state_path, output()), so the e2e CLI fixtures work on it. The
Debian packages come from tools/install-test-services.sh, which tox runs
before the tests.
"""

import glob
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

START_TIMEOUT = 90
STOP_TIMEOUT = 30


class ServerError(Exception):
    """A server did not start or stop; the message ends with its output."""


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def tail(path, lines=80):
    """The last ``lines`` lines of a log file, for error messages."""
    try:
        text = pathlib.Path(path).read_text(errors='replace')
    except OSError as exc:
        return '(no output: %s)' % exc
    return '\n'.join(text.splitlines()[-lines:])


def wait_until(check, timeout, what, process=None, log=None):
    """Call ``check()`` until it is true; ServerError on timeout or exit."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if process is not None and process.poll() is not None:
            raise ServerError('%s: the process exited with %s\n%s' % (
                what, process.returncode, tail(log) if log else ''))
        if time.monotonic() > deadline:
            raise ServerError('%s: not ready after %d s\n%s' % (
                what, timeout, tail(log) if log else ''))
        time.sleep(0.2)


def terminate(process, sig=signal.SIGTERM, timeout=STOP_TIMEOUT,
              signalled=False):
    """Send ``sig`` (unless ``signalled``), wait, then SIGKILL: the process
    is gone on return."""
    if process is not None and process.poll() is None:
        if not signalled:
            process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    return None if process is None else process.returncode


def _child_env(**extra):
    # A developer's OS_* settings or PYTHONPATH must not leak into the
    # servers or the Karbor processes.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(('OS_', 'RABBITMQ_', 'PG'))
           and key not in ('PYTHONPATH', 'PYTHONHOME', 'ERL_EPMD_PORT')}
    env.update({key: str(value) for key, value in extra.items()})
    return env


def _start_logged(argv, log_path, env, cwd, user=None):
    with open(log_path, 'ab') as log:
        return subprocess.Popen(
            [str(arg) for arg in argv], stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, cwd=str(cwd), env=env, user=user,
            start_new_session=True)


def _port_open(port):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=1):
            return True
    except OSError:
        return False


# ------------------------------------------------------------ PostgreSQL

def _postgres_bindir():
    """Where initdb and postgres are: Debian keeps them out of PATH."""
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/postgres'),
                   key=lambda p: int(p.split('/')[4]))
    if found:
        return pathlib.Path(found[-1]).parent
    on_path = shutil.which('postgres')
    if on_path:
        return pathlib.Path(on_path).parent
    raise ServerError('PostgreSQL is not installed: run '
                      'tools/install-test-services.sh (as root)')


class PostgreSQL(object):
    """A PostgreSQL cluster of its own in ``workdir``, on a free port.

    initdb refuses to run as root, so as root the cluster belongs to the
    ``postgres`` account the Debian package creates; the cluster's
    directory is then made outside the (root-only) pytest temp tree.
    The database ``karbor`` belongs to the role ``karbor``, who logs in
    over TCP with a password (``url``); the superuser ``postgres`` can
    connect through the unix socket in the cluster's directory.
    """

    DATABASE = 'karbor'
    USER = 'karbor'

    def __init__(self, workdir, max_connections=300, durable=False):
        self.workdir = pathlib.Path(workdir)
        self.max_connections = max_connections
        self.durable = durable
        self.port = free_port()
        self.password = secrets.token_hex(12)
        self.process = None
        self._user = 'postgres' if os.geteuid() == 0 else None
        self._cluster_parent = None
        self.datadir = None
        self.log_path = self.workdir / 'postgresql.log'

    @property
    def url(self):
        return 'postgresql+psycopg2://%s:%s@127.0.0.1:%d/%s' % (
            self.USER, self.password, self.port, self.DATABASE)

    def _run(self, argv, what):
        proc = subprocess.run([str(arg) for arg in argv], capture_output=True,
                              text=True, stdin=subprocess.DEVNULL,
                              env=_child_env(), user=self._user,
                              cwd=str(self.datadir.parent), timeout=120)
        if proc.returncode != 0:
            raise ServerError('%s failed (exit %d): %s\n%s%s' % (
                what, proc.returncode, ' '.join(map(str, argv)),
                proc.stdout, proc.stderr))
        return proc.stdout

    def _init_cluster(self):
        bindir = _postgres_bindir()
        if self._user:
            self._cluster_parent = pathlib.Path(
                tempfile.mkdtemp(prefix='karbor-postgresql-'))
            shutil.chown(self._cluster_parent, user=self._user)
            self.datadir = self._cluster_parent / 'data'
            # Where to look for the cluster from the test's own tree.
            (self.workdir / 'cluster').symlink_to(self._cluster_parent)
        else:
            self.datadir = self.workdir / 'data'
        self._run([bindir / 'initdb', '-D', self.datadir, '-U', 'postgres',
                   '--auth-local=trust', '--auth-host=scram-sha-256',
                   '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions'],
                  'initdb')

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.datadir is None:
            self._init_cluster()
            first_start = True
        else:
            first_start = False
        settings = {
            'listen_addresses': '127.0.0.1',
            'port': self.port,
            'unix_socket_directories': self.datadir.parent,
            'max_connections': self.max_connections,
            'logging_collector': 'off',
        }
        if not self.durable:
            # A throw-away cluster: losing it on a power cut is fine, and
            # skipping the fsyncs keeps the tests' disk quiet.
            settings.update(fsync='off', synchronous_commit='off',
                            full_page_writes='off')
        argv = [_postgres_bindir() / 'postgres', '-D', self.datadir]
        for key, value in settings.items():
            argv += ['-c', '%s=%s' % (key, value)]
        # Opened as root and handed over: the postgres account cannot
        # write into the root-only pytest tree.
        self.process = _start_logged(argv, self.log_path, _child_env(),
                                     self.datadir.parent, user=self._user)
        wait_until(self._ready, START_TIMEOUT, 'PostgreSQL', self.process,
                   self.log_path)
        if first_start:
            self.psql("CREATE ROLE %s LOGIN PASSWORD '%s'"
                      % (self.USER, self.password))
            self.psql('CREATE DATABASE %s OWNER %s'
                      % (self.DATABASE, self.USER))

    def _ready(self):
        try:
            self.psql('SELECT 1')
            return True
        except ServerError:
            return False

    def psql(self, sql, database='postgres'):
        """Run ``sql`` as the superuser; return what psql printed."""
        return self._run(
            [_postgres_bindir() / 'psql', '-X', '-q', '-A', '-t',
             '-v', 'ON_ERROR_STOP=1', '-h', self.datadir.parent,
             '-p', self.port, '-U', 'postgres', '-d', database, '-c', sql],
            'psql')

    def create_database(self, name):
        """A new database ``name`` owned by the karbor role; its URL."""
        self.psql('CREATE DATABASE %s OWNER %s' % (name, self.USER))
        return self.url.rsplit('/', 1)[0] + '/' + name

    def stop(self):
        # SIGINT is PostgreSQL's "fast" shutdown: sessions are ended.
        terminate(self.process, signal.SIGINT)
        self.process = None

    def cleanup(self):
        """Stop and remove the cluster (which may live outside workdir)."""
        self.stop()
        if self._cluster_parent is not None:
            shutil.rmtree(self._cluster_parent, ignore_errors=True)


# -------------------------------------------------------------- RabbitMQ

# Not the /usr/sbin wrappers: as root they switch to the rabbitmq account,
# which cannot read the test's directories.
RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'
RABBITMQCTL = '/usr/lib/rabbitmq/bin/rabbitmqctl'


class RabbitMQ(object):
    """A RabbitMQ node of its own in ``workdir``, on free ports.

    Nothing of the system's node is used: the node name, the Erlang cookie
    (in a HOME of its own), the data and log directories and the config
    all live in ``workdir``, and Erlang's port mapper (epmd) is a private
    one on a free port (``ERL_EPMD_PORT``), stopped with the node. The
    user ``karbor`` with a random password owns the default vhost.
    ``stop()`` then ``start()`` restarts the same node with its data.
    """

    USER = 'karbor'

    def __init__(self, workdir):
        self.workdir = pathlib.Path(workdir)
        self.port = free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        self.password = secrets.token_hex(12)
        self.nodename = 'karbor-test-%s@localhost' % secrets.token_hex(4)
        self.process = None
        self.log_path = self.workdir / 'rabbitmq-server.log'

    @property
    def url(self):
        return 'rabbit://%s:%s@127.0.0.1:%d/' % (self.USER, self.password,
                                                 self.port)

    def _env(self):
        home = self.workdir / 'home'
        return _child_env(
            HOME=home,
            ERL_EPMD_PORT=self.epmd_port,
            RABBITMQ_NODENAME=self.nodename,
            RABBITMQ_NODE_IP_ADDRESS='127.0.0.1',
            RABBITMQ_NODE_PORT=self.port,
            RABBITMQ_DIST_PORT=self.dist_port,
            RABBITMQ_MNESIA_BASE=self.workdir / 'mnesia',
            RABBITMQ_LOG_BASE=self.workdir / 'log',
            RABBITMQ_CONFIG_FILE=self.workdir / 'rabbitmq.conf',
            RABBITMQ_ADVANCED_CONFIG_FILE=self.workdir / 'advanced.config',
            RABBITMQ_CONF_ENV_FILE=self.workdir / 'rabbitmq-env.conf',
            RABBITMQ_ENABLED_PLUGINS_FILE=self.workdir / 'enabled_plugins',
            RABBITMQ_PID_FILE=self.workdir / 'rabbitmq.pid')

    def _write_config(self):
        home = self.workdir / 'home'
        home.mkdir(parents=True, exist_ok=True)
        cookie = home / '.erlang.cookie'
        if not cookie.exists():
            cookie.write_text(secrets.token_hex(16))
            cookie.chmod(0o400)
        (self.workdir / 'rabbitmq-env.conf').write_text('')
        (self.workdir / 'enabled_plugins').write_text('[].\n')
        (self.workdir / 'advanced.config').write_text('[].\n')
        (self.workdir / 'rabbitmq.conf').write_text('\n'.join([
            'default_user = %s' % self.USER,
            'default_pass = %s' % self.password,
            'log.console = false',
            'log.file.level = warning',
            # The test machine's disk may be nearly full of other things.
            'disk_free_limit.absolute = 1MB',
            '']))

    def start(self):
        if not os.path.exists(RABBITMQ_SERVER):
            raise ServerError('RabbitMQ is not installed: run '
                              'tools/install-test-services.sh (as root)')
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self.process = _start_logged([RABBITMQ_SERVER], self.log_path,
                                     self._env(), self.workdir)
        wait_until(self._accepts_login, START_TIMEOUT, 'RabbitMQ',
                   self.process, self.log_path)

    def _accepts_login(self):
        if not _port_open(self.port):
            return False
        # Imported here: only this check needs it (kombu comes with
        # oslo.messaging).
        import kombu
        try:
            with kombu.Connection('amqp' + self.url[len('rabbit'):],
                                  connect_timeout=2) as conn:
                conn.connect()
            return True
        except Exception:
            return False

    def stop(self):
        # SIGTERM makes the Erlang VM stop the node cleanly.
        terminate(self.process)
        self.process = None
        # The node started its own epmd; end it (by its port) so that no
        # daemon outlives the test.
        epmd = shutil.which('epmd') or '/usr/bin/epmd'
        if os.path.exists(epmd):
            subprocess.run([epmd, '-port', str(self.epmd_port), '-kill'],
                           capture_output=True, env=self._env(), timeout=30)

    def restart(self):
        self.stop()
        self.start()

    def rabbitmqctl(self, *args):
        """Run rabbitmqctl against this node; return what it printed."""
        proc = subprocess.run(
            [RABBITMQCTL] + [str(arg) for arg in args], capture_output=True,
            text=True, stdin=subprocess.DEVNULL, env=self._env(),
            cwd=str(self.workdir), timeout=120)
        if proc.returncode != 0:
            raise ServerError('rabbitmqctl %s failed (exit %d):\n%s%s' % (
                ' '.join(args), proc.returncode, proc.stdout, proc.stderr))
        return proc.stdout

    def add_vhost(self, name):
        """A new vhost ``name`` the karbor user may use; its URL."""
        self.rabbitmqctl('add_vhost', name)
        self.rabbitmqctl('set_permissions', '-p', name, self.USER,
                         '.*', '.*', '.*')
        return self.url + name


# ---------------------------------------------------------------- Karbor

def find_script(name):
    """A console script next to this interpreter, else the one on PATH."""
    beside = pathlib.Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise ServerError('%s is not installed next to %s nor on PATH'
                          % (name, sys.executable))
    return found


def write_config(path, **sections):
    """Write an oslo.config file: write_config(p, DEFAULT={...}, x={...})."""
    lines = []
    for section, options in sections.items():
        lines.append('[%s]' % section)
        lines.extend('%s = %s' % (key, value)
                     for key, value in options.items())
        lines.append('')
    pathlib.Path(path).write_text('\n'.join(lines))
    return str(path)


class KarborProcess(object):
    """One Karbor console script with its own config file and log."""

    def __init__(self, script, host, config_files, log_path, cwd):
        self.script = script
        self.host = host
        self.config_files = config_files
        self.log_path = log_path
        self.cwd = cwd
        self.process = None

    @property
    def pid(self):
        return None if self.process is None else self.process.pid

    def start(self):
        argv = [find_script(self.script)]
        for path in self.config_files:
            argv += ['--config-file', path]
        self.process = _start_logged(argv, self.log_path, _child_env(),
                                     self.cwd)

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, signalled=False):
        terminate(self.process, signalled=signalled)

    def kill(self):
        """SIGKILL, as a crash would: no clean-up runs."""
        if self.running():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)

    def output(self, last_lines=None):
        text = pathlib.Path(self.log_path).read_text(errors='replace')
        if last_lines is not None:
            text = '\n'.join(text.splitlines()[-last_lines:])
        return text


class Deployment(object):
    """karbor-api under gunicorn, karbor-protection and karbor-operationengine
    processes, all on one PostgreSQL database and one RabbitMQ.

    Every process reads ``<workdir>/karbor.conf`` plus a small file of its
    own naming its ``host`` (``protection-1``, ``engine-2``, ``api``). The
    state directory (data roots and the file-system bank) is shared, as it
    would be on a shared file system.
    """

    def __init__(self, workdir, database_url, transport_url, api_workers=3,
                 protections=2, engines=2, report_interval=1,
                 service_down_time=5, extra_options=None):
        self.workdir = pathlib.Path(workdir)
        self.database_connection = database_url
        self.transport_url = transport_url
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.state_path = str(self.workdir / 'state')
        self.config_path = str(self.workdir / 'karbor.conf')
        self.api_workers = api_workers
        self.report_interval = report_interval
        self.service_down_time = service_down_time
        self.extra_options = extra_options or {}
        self.api = self._process('karbor-api', 'api')
        self.protection = [
            self._process('karbor-protection', 'protection-%d' % (i + 1))
            for i in range(protections)]
        self.engines = [
            self._process('karbor-operationengine', 'engine-%d' % (i + 1))
            for i in range(engines)]
        self.log_path = self.api.log_path

    def endpoint(self, project):
        return '%s/v1/%s' % (self.url, project)

    @property
    def processes(self):
        return [self.api] + self.protection + self.engines

    def _process(self, script, host):
        # oslo.config reads the files in order: the host's own one last.
        return KarborProcess(script, host,
                             [self.config_path,
                              str(self.workdir / ('%s.conf' % host))],
                             str(self.workdir / ('%s.log' % host)),
                             self.workdir)

    def _write_configs(self):
        options = {
            'DEFAULT': {
                'state_path': self.state_path,
                'transport_url': self.transport_url,
                'osapi_karbor_listen': '127.0.0.1',
                'osapi_karbor_listen_port': self.port,
                'osapi_karbor_workers': self.api_workers,
                'report_interval': self.report_interval,
                'service_down_time': self.service_down_time,
            },
            'database': {'connection': self.database_connection},
        }
        for section, values in self.extra_options.items():
            options.setdefault(section, {}).update(values)
        write_config(self.config_path, **options)
        for proc in self.processes:
            write_config(proc.config_files[-1], DEFAULT={'host': proc.host})

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.makedirs(self.state_path, exist_ok=True)
        self._write_configs()
        self.sync_database()
        for proc in self.processes:
            proc.start()
        wait_until(self._api_answers, START_TIMEOUT, 'karbor-api',
                   self.api.process, self.api.log_path)
        # Started means consuming: until a service listens on its topic,
        # RabbitMQ hands every cast to the others.
        for script, procs in (('karbor-protection', self.protection),
                              ('karbor-operationengine', self.engines)):
            if procs:
                wait_until(lambda: self._consumers(script) == len(procs),
                           START_TIMEOUT, '%s consuming' % script,
                           log=procs[0].log_path)

    def _consumers(self, topic):
        """How many processes consume the RPC queue of ``topic``."""
        # Imported here: only this check needs it (kombu comes with
        # oslo.messaging).
        import kombu
        try:
            with kombu.Connection('amqp' + self.transport_url[len('rabbit'):],
                                  connect_timeout=2) as conn:
                # passive: only look, never create the queue.
                return conn.default_channel.queue_declare(
                    queue=topic, passive=True).consumer_count
        except Exception:
            return None

    def karbor_manage(self, *args):
        """Run ``karbor-manage`` with this deployment's config."""
        proc = subprocess.run(
            [find_script('karbor-manage'), '--config-file',
             self.config_path] + [str(arg) for arg in args],
            capture_output=True, text=True, stdin=subprocess.DEVNULL,
            env=_child_env(), cwd=str(self.workdir), timeout=300)
        if proc.returncode != 0:
            raise ServerError('karbor-manage %s failed (exit %d):\n%s%s' % (
                ' '.join(args), proc.returncode, proc.stdout, proc.stderr))
        return proc.stdout

    def sync_database(self):
        return self.karbor_manage('db', 'sync')

    def _api_answers(self):
        try:
            with urllib.request.urlopen(self.url + '/', timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def output(self, last_lines=None):
        """Every process's log (or its last lines), one after the other."""
        return '\n'.join('==== %s (%s)\n%s' % (
            proc.host, proc.script, proc.output(last_lines))
            for proc in self.processes
            if os.path.exists(proc.log_path))

    def tracebacks(self):
        """{host: the end of its log} of every process that logged one."""
        return {proc.host: proc.output(last_lines=60)
                for proc in self.processes
                if os.path.exists(proc.log_path)
                and 'Traceback' in proc.output()}

    def stop(self):
        # Signal all first: each takes a few seconds to drain its work.
        signalled = [proc for proc in self.processes if proc.running()]
        for proc in signalled:
            proc.process.send_signal(signal.SIGTERM)
        for proc in signalled:
            proc.stop(signalled=True)
