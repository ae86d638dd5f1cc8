"""Plain helpers of the end-to-end suite (no fixtures here).

Processes, config files, the client virtualenv and the parsing of what the
CLIs print. The fixtures that use them are in conftest.py.
"""

import collections
import fcntl
import hashlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
CLIENT_REQUIREMENTS = REPO / 'tools' / 'e2e-client-requirements.txt'
DEFAULT_CLIENT_VENV = REPO / '.tox' / 'e2e-clients'
VENV_MARKER = '.karbor-e2e-requirements.sha256'

PROJECT = 'e2e-project'
ADMIN = 'admin'
LOCAL_PROVIDER_ID = 'b766f37c-d011-4026-8228-28730d734a3f'
LOCAL_PROVIDER_NAME = 'Local Directory'
SCHEMA_KINDS = ('options_schema', 'restore_schema', 'saved_info_schema',
                'verify_schema')

CliResult = collections.namedtuple('CliResult', 'rc stdout stderr')
ApiResult = collections.namedtuple('ApiResult',
                                   'status content_type body text')


# ------------------------------------------------------------- processes

def clean_env(extra_path=None):
    """The environment for a child: no OS_* settings, no foreign PYTHONPATH.

    A developer's OS_CLOUD or OS_AUTH_URL would otherwise steer the clients
    away from the server under test.
    """
    env = {key: value for key, value in os.environ.items()
           if not key.startswith('OS_')
           and key not in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV')}
    if extra_path:
        env['PATH'] = os.pathsep.join([str(extra_path),
                                       env.get('PATH', os.defpath)])
    return env


def find_script(name):
    """A console script next to this interpreter, else the one on PATH."""
    beside = pathlib.Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail('%s is neither next to %s nor on PATH: is karbor '
                    'installed?' % (name, sys.executable), pytrace=False)
    return found


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


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


def start_logged(argv, log_path, cwd, extra_env=None):
    """Popen ``argv`` with stdout and stderr into ``log_path``."""
    env = clean_env()
    env.update(extra_env or {})
    with open(log_path, 'wb') as log:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, cwd=str(cwd),
                                env=env)


def read_log(log_path, last_lines=None):
    """What a process wrote to ``log_path``, or only its last lines."""
    try:
        text = pathlib.Path(log_path).read_text(errors='replace')
    except OSError as exc:
        return '(no output: %s)' % exc
    if last_lines is not None:
        lines = text.splitlines()
        if len(lines) > last_lines:
            text = '\n'.join(['[... %d lines before ...]'
                              % (len(lines) - last_lines)]
                             + lines[-last_lines:])
    return text


def answers(url):
    """Whether GET ``url`` answers 200 right now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def stop_process(proc, timeout=15):
    """SIGTERM, wait, then SIGKILL: the process is gone on return."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    return proc.returncode


def poll(check, timeout, interval=0.5):
    """Call ``check()`` until it returns something true or time runs out.

    Returns ``(value, seconds_waited)``; value is the last (false) result
    when the time ran out.
    """
    started = time.monotonic()
    while True:
        value = check()
        waited = time.monotonic() - started
        if value or waited >= timeout:
            return value, waited
        time.sleep(interval)


# ------------------------------------------------------- client virtualenv

def _sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def venv_bin(venv, name=''):
    return pathlib.Path(venv) / 'bin' / name


def _venv_works(venv):
    python = venv_bin(venv, 'python')
    if not python.exists():
        return False
    try:
        return subprocess.run([str(python), '-c', 'pass'],
                              capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def run_or_fail(argv, what, timeout):
    proc = subprocess.run(argv, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout,
                          env=clean_env())
    if proc.returncode != 0:
        pytest.fail('%s failed (exit %d): %s\nstdout:\n%s\nstderr:\n%s' % (
            what, proc.returncode, ' '.join(argv), proc.stdout, proc.stderr),
            pytrace=False)
    return proc


def build_venv(venv, requirements, scripts):
    """Make ``venv`` hold ``requirements``; return its path.

    A marker file in the venv records the sha256 of the requirements file
    it was built from: while it matches (and ``scripts`` are there) the venv
    is reused untouched, otherwise it is (re)built with ``python -m venv``
    and ``pip install -r``. A venv whose interpreter no longer runs (the
    Python it was made from is gone) is cleared first.
    """
    venv = pathlib.Path(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    # pytest-xdist workers each set up the session fixtures: one builds,
    # the others wait for it and then find the marker.
    with open(str(venv) + '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _build_venv(venv, requirements, scripts)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build_venv(venv, requirements, scripts):
    wanted = _sha256(requirements)
    marker = venv / VENV_MARKER
    clis = [venv_bin(venv, script) for script in scripts]
    if (marker.exists() and marker.read_text().strip() == wanted
            and all(cli.exists() for cli in clis) and _venv_works(venv)):
        return venv

    if marker.exists():
        marker.unlink()
    create = [sys.executable, '-m', 'venv']
    if venv.exists() and not _venv_works(venv):
        create.append('--clear')
    run_or_fail(create + [str(venv)], 'creating the virtualenv %s' % venv,
                timeout=300)
    run_or_fail([str(venv_bin(venv, 'python')), '-m', 'pip', 'install',
                 '--disable-pip-version-check', '-r', str(requirements)],
                'installing %s' % requirements, timeout=1800)
    missing = [str(cli) for cli in clis if not cli.exists()]
    if missing:
        pytest.fail('the virtualenv %s lacks %s after installing %s'
                    % (venv, ', '.join(missing), requirements), pytrace=False)
    marker.write_text(wanted + '\n')
    return venv


# ------------------------------------------------------- the CLIs' output

def ok(result):
    """Assert a CLI call succeeded and return its stdout."""
    assert result.rc == 0, 'exit %d\nstdout:\n%s\nstderr:\n%s' % result
    return result.stdout


def failed(result):
    """Assert a CLI call failed; return its stdout and stderr together."""
    assert result.rc != 0, 'unexpected success\nstdout:\n%s\nstderr:\n%s' % (
        result.stdout, result.stderr)
    return result.stdout + result.stderr


def parse_table(text):
    """The rows of the first prettytable in ``text`` as dicts of strings.

    Columns are cut at the ``+`` of the border line, so a ``|`` inside a
    value does not split it. A row whose first cell is empty continues the
    row above it (how ``karbor ...-show`` prints multi-line values); its
    cells are appended with a newline. A column with fewer lines than the
    others in such a row gets no trailing newlines for the empty cells.
    """
    lines = text.splitlines()
    borders = [i for i, line in enumerate(lines)
               if line.startswith('+') and line.rstrip().endswith('+')]
    if len(borders) < 2:
        raise AssertionError('no table in:\n%s' % text)
    border = lines[borders[0]].rstrip()
    cuts = [i for i, char in enumerate(border) if char == '+']

    def cells(line):
        line = line.rstrip().ljust(len(border))
        return [line[start + 1:end].strip()
                for start, end in zip(cuts, cuts[1:])]

    header = cells(lines[borders[0] + 1])
    end = borders[2] if len(borders) > 2 else borders[1]
    rows = []
    for line in lines[borders[1] + 1:end]:
        if not line.startswith('|'):
            continue
        values = cells(line)
        if rows and values[0] == '':
            for key, value in zip(header[1:], values[1:]):
                rows[-1][key] = '%s\n%s' % (rows[-1][key], value)
            continue
        rows.append(dict(zip(header, values)))
    return [{key: value.rstrip('\n') for key, value in row.items()}
            for row in rows]


def parse_show(text):
    """A ``Property | Value`` table as one dict."""
    return {row['Property']: row['Value'] for row in parse_table(text)}


# ------------------------------------------------------------ the raw API

def api_call(server, method, path, user=ADMIN, project=PROJECT, body=None,
             timeout=30):
    """One request to ``<server>/v1/<project><path>`` as ``user``.

    For what the CLIs cannot send (filters they do not expose, bad query
    parameters). Returns ApiResult(status, content type, the body parsed
    as JSON or None, the body as text); an HTTP error is a result too.
    """
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        server.endpoint(project) + path, data=data, method=method,
        headers={'X-Auth-Token': '%s:%s' % (user, project),
                 'Accept': 'application/json',
                 'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
            content_type = response.headers.get('Content-Type', '')
            raw = response.read()
    except urllib.error.HTTPError as error:
        status = error.code
        content_type = error.headers.get('Content-Type', '')
        raw = error.read()
    text = raw.decode('utf-8', 'replace')
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    return ApiResult(status, content_type, parsed, text)


def api_ok(result, status=200):
    """Assert an API call answered ``status``; return its parsed body."""
    assert result.status == status, 'HTTP %d, expected %d: %s' % (
        result.status, status, result.text)
    return result.body
