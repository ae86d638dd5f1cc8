"""The Horizon plugin in a real browser, against the real Keystone.

Debian's headless Chromium (tools/e2e-browser.sh installs it) clicks
through Horizon with the plugin of dashboard/ installed, as project A's
member, then its reader, then project B's member. Every step saves a
screenshot under the directory printed at the start (kept after the
run); every page is checked for Horizon's error page and the browser's
console for JavaScript errors. The tests run in file order.
"""

import json
import os
import pathlib
import subprocess
import sys
import time

import pytest
from selenium.common import exceptions as selenium_exceptions
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from karbor.tests.e2e import helpers
from karbor.tests.e2e import horizon as e2e_horizon
from karbor.tests.e2e import keystone as e2e_keystone

A, B = e2e_keystone.PROJECTS
A_MEMBER = e2e_keystone.user_name(A, 'member')
A_READER = e2e_keystone.user_name(A, 'reader')
B_MEMBER = e2e_keystone.user_name(B, 'member')
SOURCE = 'photos'
RESTORED = 'photos-restored'
PLAN = 'photos-plan'
WAIT = 60
# Debian's: given explicitly, so that selenium does not try to download a
# browser of its own.
CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
SETTLE = 180
# Horizon's error pages, and Django's debug ones (the test Horizon runs
# with DEBUG so that it serves its static files).
ERROR_PAGE_MARKERS = ('Server error', 'Something went wrong',
                      'Internal Server Error', 'Traceback (most recent',
                      'Exception Value', 'Page not found')


@pytest.fixture(scope='module')
def horizon_venv():
    return e2e_horizon.build_venv(os.environ.get('KARBOR_E2E_HORIZON_VENV')
                                  or e2e_horizon.DEFAULT_VENV)


@pytest.fixture(scope='module')
def horizon(horizon_venv, tmp_path_factory, keystone,
            keystone_karbor_server):
    server = e2e_horizon.start_horizon(
        horizon_venv, tmp_path_factory.mktemp('horizon'), keystone.url)
    try:
        yield server
    finally:
        helpers.stop_process(server.process)


@pytest.fixture(scope='module')
def screenshots(artifacts):
    directory = artifacts('dashboard-screenshots')
    # Stale screenshots of an earlier run would pass for this one's.
    for old in directory.glob('*.png'):
        old.unlink()
    return directory


class Browser(object):
    """One logged-in headless Chromium and the checks made on each page."""

    def __init__(self, horizon, screenshots, who):
        if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
            pytest.fail('%s and %s are needed: run tools/e2e-browser.sh (as '
                        'root)' % (CHROMIUM, CHROMEDRIVER), pytrace=False)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ('--headless=new', '--no-sandbox',
                         '--disable-dev-shm-usage', '--window-size=1400,1000'):
            options.add_argument(argument)
        options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        self.driver = webdriver.Chrome(
            service=Service(CHROMEDRIVER), options=options)
        self.horizon = horizon
        self.screenshots = screenshots
        self.who = who
        self.shots = 0

    def quit(self):
        self.driver.quit()

    def wait(self, condition, timeout=WAIT):
        return WebDriverWait(self.driver, timeout).until(condition)

    def open(self, path):
        self.driver.get(self.horizon.url + path)
        self.check_page()

    def check_page(self):
        """No Horizon error page; no JavaScript error from our pages."""
        title = self.driver.title
        body = self.driver.find_element(By.TAG_NAME, 'body').text
        for marker in ERROR_PAGE_MARKERS:
            assert marker not in title and marker not in body[:500], (
                '%s shows an error page: %s\n%s\nHorizon log:\n%s' % (
                    self.driver.current_url, title, body[:2000],
                    self.horizon.output(last_lines=60)))
        errors = [entry for entry in self.driver.get_log('browser')
                  if entry['level'] == 'SEVERE'
                  and '/favicon' not in entry['message']]
        assert not errors, json.dumps(errors, indent=2)

    def shot(self, name):
        self.shots += 1
        name = '%02d-%s-%s.png' % (self.shots, self.who, name)
        path = self.screenshots / name
        self.driver.save_screenshot(str(path))
        return path

    def login(self, user):
        self.open('/auth/login/')
        self.wait(ec.visibility_of_element_located((By.ID, 'id_username')))
        self.driver.find_element(By.ID, 'id_username').send_keys(user)
        self.driver.find_element(By.ID, 'id_password').send_keys(
            e2e_keystone.password_of(user))
        self.driver.find_element(By.ID, 'loginBtn').click()
        self.wait(ec.title_contains('Overview'))
        self.check_page()
        self.shot('logged-in')

    def ids(self, css):
        return [element.get_attribute('id')
                for element in self.driver.find_elements(By.CSS_SELECTOR, css)]

    def click(self, element):
        # Row actions after the first sit in a closed dropdown.
        self.driver.execute_script('arguments[0].click();', element)

    def rows(self, table):
        return self.driver.find_elements(
            By.CSS_SELECTOR, '#%s tbody tr[data-object-id]' % table)

    def status_of(self, table, object_id):
        cells = self.driver.find_elements(
            By.CSS_SELECTOR, '#%s tr[data-object-id="%s"] td.status_up, '
            '#%s tr[data-object-id="%s"] td.status_down, '
            '#%s tr[data-object-id="%s"] td.status_unknown' % (
                (table, object_id) * 3))
        return cells[0].text.strip().lower() if cells else None

    def wait_status(self, table, object_id, wanted, timeout=SETTLE):
        """Wait, without reloading, until the row's status is ``wanted``."""
        def settled(_driver):
            try:
                return self.status_of(table, object_id) in wanted
            except selenium_exceptions.StaleElementReferenceException:
                return False
        self.wait(settled, timeout)
        return self.status_of(table, object_id)


@pytest.fixture(scope='module')
def member(horizon, screenshots):
    browser = Browser(horizon, screenshots, 'a-member')
    browser.login(A_MEMBER)
    yield browser
    browser.quit()


@pytest.fixture(scope='module')
def flow():
    """What the member's steps found, for the later steps and users."""
    return {}


def test_member_creates_a_plan(member, flow, keystone,
                               keystone_karbor_server):
    top = (pathlib.Path(keystone_karbor_server.state_path) / 'data' /
           keystone.project_ids[A] / SOURCE)
    top.mkdir(parents=True)
    (top / 'hello.txt').write_text('hello from the dashboard test\n')

    member.open('/project/karbor_plans/')
    member.shot('plans-empty')
    member.click(member.driver.find_element(By.ID, 'plans__action_create'))
    member.wait(ec.visibility_of_element_located((By.ID, 'id_name')))
    member.driver.find_element(By.ID, 'id_name').send_keys(PLAN)
    boxes = member.driver.find_elements(
        By.CSS_SELECTOR, 'input[name="resources"]')
    labels = [box.find_element(By.XPATH, '..').text for box in boxes]
    chosen = [box for box, text in zip(boxes, labels) if SOURCE in text]
    assert len(chosen) == 1, labels
    member.click(chosen[0])
    # A field built from the provider's options schema.
    member.driver.find_element(
        By.CSS_SELECTOR, 'input[name$="_exclude"]').send_keys('*.tmp')
    member.shot('create-plan-form')
    member.driver.find_element(
        By.CSS_SELECTOR, '#create_plan_form input[type=submit]').click()
    row = member.wait(lambda d: row_with(member, 'plans', PLAN))
    member.check_page()
    flow['plan_id'] = row_id(row)
    member.shot('plan-created')
    member.open('/project/karbor_plans/%s/' % flow['plan_id'])
    parameters = json.loads(member.driver.find_element(
        By.CSS_SELECTOR, '.karbor-detail pre').text)
    assert parameters == {'OS::Karbor::Directory': {'exclude': '*.tmp'}}
    member.shot('plan-detail')


def self_rows(browser, table):
    try:
        return browser.rows(table)
    except selenium_exceptions.StaleElementReferenceException:
        return []


def row_with(browser, table, text):
    """The one row of ``table`` showing ``text``, else None.

    The Keystone-backed API is shared with test_keystone_cli, so the
    project may hold that module's objects too.
    """
    try:
        matching = [row for row in self_rows(browser, table)
                    if text in row.text]
    except selenium_exceptions.StaleElementReferenceException:
        return None
    return matching[0] if len(matching) == 1 else None


def test_member_protects_and_the_checkpoint_becomes_available(member, flow):
    member.open('/project/karbor_plans/')
    member.click(member.driver.find_element(
        By.ID, 'plans__row_%s__action_protect' % flow['plan_id']))
    member.wait(ec.presence_of_element_located(
        (By.CSS_SELECTOR, '.alert-success')))
    member.check_page()
    member.open('/project/karbor_checkpoints/')
    checkpoint_id = row_id(member.wait(
        lambda d: row_with(member, 'checkpoints', PLAN)))
    flow['checkpoint_id'] = checkpoint_id
    member.shot('checkpoint-protecting')
    assert member.wait_status('checkpoints', checkpoint_id,
                              ('available', 'error')) == 'available'
    member.check_page()
    member.shot('checkpoint-available')


def test_member_verifies_the_checkpoint(member, flow):
    member.click(member.driver.find_element(
        By.ID, 'checkpoints__row_%s__action_verify' % flow['checkpoint_id']))
    member.wait(ec.presence_of_element_located(
        (By.CSS_SELECTOR, '.alert-success')))
    member.open('/project/karbor_verifications/')
    verification_id = row_id(member.wait(
        lambda d: row_with(member, 'verifications', flow['checkpoint_id'])))
    assert member.wait_status('verifications', verification_id,
                              ('success', 'error')) == 'success'
    member.shot('verification-success')
    member.open('/project/karbor_verifications/%s/' % verification_id)
    statuses = [cell.text for cell in member.driver.find_elements(
        By.CSS_SELECTOR, '.karbor-resource-status')]
    assert statuses == ['success'], statuses
    member.shot('verification-detail')
    # The checkpoint says what its last verification read.
    member.open('/project/karbor_checkpoints/')
    row = member.wait(lambda d: row_with(member, 'checkpoints', PLAN))
    assert 'success (full)' in row.text, row.text


def test_member_restores_the_checkpoint(member, flow):
    member.open('/project/karbor_checkpoints/')
    member.click(member.driver.find_element(
        By.ID, 'checkpoints__row_%s__action_restore' % flow['checkpoint_id']))
    field = member.wait(ec.visibility_of_element_located(
        (By.CSS_SELECTOR, '#restore_checkpoint_form input[name$='
                          '"_restore_name"]')))
    field.send_keys(RESTORED)
    member.shot('restore-form')
    member.driver.find_element(
        By.CSS_SELECTOR, '#restore_checkpoint_form input[type=submit]').click()
    member.wait(ec.title_contains('Restores'))
    restore_id = row_id(member.wait(
        lambda d: row_with(member, 'restores', flow['checkpoint_id'])))
    assert member.wait_status('restores', restore_id,
                              ('success', 'error')) == 'success'
    member.check_page()
    member.shot('restore-success')


def _log_rows(browser):
    return [(row.get_attribute('data-type'), row.get_attribute('data-status'))
            for row in browser.driver.find_elements(
                By.CSS_SELECTOR, 'tr.karbor-log')]


def _timeline(browser):
    browser.wait(ec.presence_of_element_located(
        (By.CSS_SELECTOR, '.karbor-timeline svg, .karbor-timeline')))
    return [(bar.get_attribute('data-type'), bar.get_attribute('data-status'))
            for bar in browser.driver.find_elements(
                By.CSS_SELECTOR, '.karbor-timeline rect.karbor-timeline-op')]


EXPECTED_LOGS = {('protect', 'available'), ('verify', 'success'),
                 ('restore', 'restored')}


def test_member_finds_the_operations_in_the_log_and_timeline(member, flow):
    member.open('/project/karbor_operation_logs/')
    # The restore's log may still be closing: the page refreshes itself.
    member.wait(lambda d: EXPECTED_LOGS <= set(_log_rows(member)), SETTLE)
    member.check_page()
    assert EXPECTED_LOGS <= set(_timeline(member)), _timeline(member)
    flow['logs'] = sorted(_log_rows(member))
    member.shot('operation-logs')
    member.open('/project/karbor_operation_logs/?operation_type=verify')
    assert set(_log_rows(member)) == {('verify', 'success')}
    member.shot('operation-logs-filtered')


def test_reader_sees_the_rows_without_actions(horizon, screenshots, flow):
    reader = Browser(horizon, screenshots, 'a-reader')
    try:
        reader.login(A_READER)
        reader.open('/project/karbor_plans/')
        assert flow['plan_id'] in [row_id(r) for r in reader.rows('plans')]
        assert reader.ids('#plans [id*="__action_"]') == [], reader.ids(
            '#plans [id*="__action_"]')
        reader.shot('plans')
        reader.open('/project/karbor_checkpoints/')
        reader.wait(lambda d: row_with(reader, 'checkpoints', PLAN))
        assert reader.ids('#checkpoints [id*="__action_"]') == [], \
            reader.ids('#checkpoints [id*="__action_"]')
        reader.shot('checkpoints')
        reader.open('/project/karbor_operation_logs/')
        assert sorted(_log_rows(reader)) == flow['logs']
        assert EXPECTED_LOGS <= set(_timeline(reader))
        reader.shot('operation-logs')
        # The panel for creating triggers offers nothing to a reader.
        reader.open('/project/karbor_triggers/')
        assert reader.ids('#triggers [id*="__action_"]') == []
    finally:
        reader.quit()


def test_other_project_sees_none_of_it(horizon, screenshots, flow):
    other = Browser(horizon, screenshots, 'b-member')
    try:
        other.login(B_MEMBER)
        other.open('/project/karbor_operation_logs/')
        assert _log_rows(other) == []
        assert _timeline(other) == []
        other.shot('operation-logs')
        other.open('/project/karbor_plans/')
        assert flow['plan_id'] not in [row_id(r) for r in other.rows('plans')]
        # A member of B may create, so B sees the button.
        assert other.ids('#plans__action_create') == ['plans__action_create']
        other.shot('plans')
        other.open('/project/karbor_plans/%s/' % flow['plan_id'])
        other.wait(ec.presence_of_element_located(
            (By.CSS_SELECTOR, '.alert-danger')))
        assert 'could not be found' in other.driver.find_element(
            By.CSS_SELECTOR, '.alert-danger').text
        other.shot('plan-of-a-refused')
    finally:
        other.quit()


def test_member_creates_and_deletes_a_schedule(member, flow):
    member.open('/project/karbor_triggers/')
    member.click(member.driver.find_element(By.ID,
                                            'triggers__action_create'))
    member.wait(ec.visibility_of_element_located((By.ID, 'id_pattern')))
    member.driver.find_element(By.ID, 'id_name').send_keys('nightly')
    member.driver.find_element(By.ID, 'id_pattern').send_keys('0 2 * * *')
    member.driver.find_element(
        By.CSS_SELECTOR, '#create_trigger_form input[type=submit]').click()
    member.wait(lambda d: len(self_rows(member, 'triggers')) == 1)
    member.check_page()
    member.shot('trigger-created')

    member.open('/project/karbor_scheduled_operations/')
    member.click(member.driver.find_element(
        By.ID, 'scheduled_operations__action_create'))
    member.wait(ec.visibility_of_element_located((By.ID, 'id_name')))
    member.driver.find_element(By.ID, 'id_name').send_keys('nightly-protect')
    member.shot('schedule-form')
    member.driver.find_element(
        By.CSS_SELECTOR,
        '#create_scheduled_operation_form input[type=submit]').click()
    member.wait(lambda d: len(self_rows(member, 'scheduled_operations')) == 1)
    member.check_page()
    row = self_rows(member, 'scheduled_operations')[0]
    assert 'nightly-protect' in row.text and flow['plan_id'] in row.text
    member.shot('schedule-created')

    # A refused delete (the trigger is in use) is a message, not a crash.
    member.open('/project/karbor_triggers/')
    trigger_id = self_rows(member, 'triggers')[0].get_attribute(
        'data-object-id')
    _delete_row(member, 'triggers', trigger_id)
    member.wait(ec.presence_of_element_located(
        (By.CSS_SELECTOR, '.alert-danger')))
    member.check_page()
    alerts = ' '.join(alert.text for alert in member.driver.find_elements(
        By.CSS_SELECTOR, '.alert-danger'))
    assert 'in use' in alerts or 'used by' in alerts, alerts
    member.shot('trigger-in-use')
    assert len(self_rows(member, 'triggers')) == 1

    member.open('/project/karbor_scheduled_operations/')
    _delete_row(member, 'scheduled_operations', row_id(
        self_rows(member, 'scheduled_operations')[0]))
    member.wait(lambda d: len(self_rows(member, 'scheduled_operations')) == 0)
    member.open('/project/karbor_triggers/')
    _delete_row(member, 'triggers', trigger_id)
    member.wait(lambda d: len(self_rows(member, 'triggers')) == 0)
    member.check_page()


def row_id(row):
    return row.get_attribute('data-object-id')


def _delete_row(browser, table, object_id):
    """The row's Delete action, confirmed in Horizon's dialog."""
    button = browser.driver.find_element(
        By.CSS_SELECTOR, '#%s__row_%s__action_delete' % (table, object_id))
    browser.click(button)
    confirm = browser.wait(ec.element_to_be_clickable(
        (By.CSS_SELECTOR, '.modal-footer .btn-danger, '
                          '.modal-footer .btn-primary')))
    confirm.click()


def _api(keystone, server, method, path, body=None):
    """The Karbor API as project A's member, through a Keystone token."""
    session = keystone.session(A_MEMBER, A)
    response = session.request(
        server.endpoint(keystone.project_ids[A]) + path, method,
        json=body, raise_exc=False)
    assert response.status_code < 300, (response.status_code, response.text)
    return response.json() if response.text else None


def _linked_log_ids(browser):
    """The operation-log ids the rows of the list link to, in order."""
    return [link.get_attribute('href').rstrip('/').rsplit('/', 1)[-1]
            for link in browser.driver.find_elements(
                By.CSS_SELECTOR, 'tr.karbor-log td:first-child a')]


def test_the_log_list_pages_to_older_rows(member, flow, keystone,
                                          keystone_karbor_server):
    """More logs than a page (20): the next page shows the older ones."""
    server = keystone_karbor_server
    for _ in range(22):
        _api(keystone, server, 'POST', '/verifications', {'verification': {
            'provider_id': helpers.LOCAL_PROVIDER_ID,
            'checkpoint_id': flow['checkpoint_id'], 'parameters': {}}})

    def listed():
        return _api(keystone, server, 'GET',
                    '/operation_logs?limit=100')['operation_logs']
    ended, _ = helpers.poll(
        lambda: all(log['ended_at'] for log in listed()), SETTLE)
    assert ended, listed()
    logs = listed()
    assert len(logs) > 20

    member.open('/project/karbor_operation_logs/')
    first = _linked_log_ids(member)
    assert first == [log['id'] for log in logs[:20]]
    # Nothing runs: the page does not poll.
    assert not member.driver.find_elements(By.CSS_SELECTOR, '.karbor-poll')
    member.shot('operation-logs-page-1')
    member.click(member.driver.find_element(By.ID, 'karbor-next-page'))
    member.wait(lambda d: 'marker=' in d.current_url)
    member.check_page()
    second = _linked_log_ids(member)
    assert second == [log['id'] for log in logs[20:40]]
    started = {log['id']: log['started_at'] for log in logs}
    assert max(started[i] for i in second) <= min(started[i]
                                                  for i in first)
    assert member.driver.find_elements(By.LINK_TEXT, 'First page')
    member.shot('operation-logs-page-2')


# Runs the karbor objects on the test server's database (its own config),
# as its protection service does: start a log, or end it.
_LOG_SCRIPT = """
import sys
from karbor.cmd import common
from karbor import context
from karbor import objects
common.init(['--config-file', sys.argv[1]])
objects.register_all()
ctx = context.get_admin_context()
if sys.argv[2] == 'start':
    print(objects.OperationLog.start(ctx, 'protect', sys.argv[3],
                                     plan_id=sys.argv[4]).id)
else:
    log = objects.OperationLog.get_by_id(ctx, sys.argv[3])
    assert log.finish(True, extra_info={'resources': {}})
"""


def _log_call(server, *args):
    proc = subprocess.run(
        [sys.executable, '-c', _LOG_SCRIPT, str(server.config_path)]
        + list(args), capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() \
        else ''


def test_a_log_detail_follows_its_operation_to_the_end(
        member, flow, keystone, keystone_karbor_server):
    """The detail page of a running operation shows its end by itself.

    A real protect of a small directory is over before a browser opens
    its page, so this log is started and ended the way the protection
    service does it (OperationLog.start, then finish), on the server's
    database, with the page open in between.
    """
    server = keystone_karbor_server
    log_id = _log_call(server, 'start', keystone.project_ids[A],
                       flow['plan_id'])
    member.open('/project/karbor_operation_logs/%s/' % log_id)

    def field(label):
        try:
            return member.driver.find_element(
                By.XPATH, '//dt[normalize-space()="%s"]/following-sibling'
                          '::dd[1]' % label).text.strip()
        except (selenium_exceptions.NoSuchElementException,
                selenium_exceptions.StaleElementReferenceException):
            return None
    assert (field('Status'), field('Ended')) == ('protecting', '-')
    assert member.driver.find_element(
        By.CSS_SELECTOR, '.page-header').text.strip() == 'protect protecting'
    assert member.driver.find_elements(By.CSS_SELECTOR, '.karbor-poll')
    member.shot('log-detail-running')
    # Gone if the browser loaded the page again.
    member.driver.execute_script('window.karborSamePage = true;')
    _log_call(server, 'finish', log_id)
    member.wait(lambda d: field('Status') == 'available', 30)
    assert field('Ended') not in (None, '-')
    # The heading names the status too, and follows it.
    member.wait(lambda d: d.find_element(
        By.CSS_SELECTOR, '.page-header').text.strip() == 'protect available',
        10)
    assert 'protect available' in member.driver.title
    assert member.driver.execute_script('return window.karborSamePage;')
    # Settled: it stops polling.
    assert not member.driver.find_elements(By.CSS_SELECTOR, '.karbor-poll')
    member.check_page()
    member.shot('log-detail-ended')


def test_the_panels_render_for_a_member(member):
    for panel in ('karbor_triggers', 'karbor_scheduled_operations',
                  'karbor_restores'):
        member.open('/project/%s/' % panel)
        time.sleep(0.2)
        member.shot(panel)


def test_the_plugins_own_tests_pass(horizon_venv):
    """dashboard/tests, run in the Horizon virtualenv they need."""
    proc = subprocess.run(
        [str(helpers.venv_bin(horizon_venv, 'python')), '-m', 'pytest', '-q',
         '-p', 'no:cacheprovider', 'tests'],
        cwd=str(e2e_horizon.PLUGIN), capture_output=True, text=True,
        stdin=subprocess.DEVNULL, timeout=600, env=helpers.clean_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_horizon_logged_no_server_error(horizon):
    """Not even for the requests pages make in the background."""
    log = horizon.output()
    assert 'Internal Server Error' not in log, horizon.output(last_lines=80)
