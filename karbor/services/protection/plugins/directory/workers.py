"""A thread pool with a bound on the tasks submitted but not finished.

``submit`` blocks while ``max_pending`` tasks are queued or running, so a
producer walking a large tree never holds more than that many tasks'
data in memory. The first task error stops the producer at its next
``submit`` and is raised by ``wait``.
"""

from concurrent import futures
import threading


class BoundedPool(object):

    def __init__(self, workers, max_pending=None, name='karbor-worker'):
        self._pool = futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix=name)
        self._slots = threading.BoundedSemaphore(max_pending or 2 * workers)
        self._lock = threading.Lock()
        self._pending = set()
        self._idle = threading.Condition(self._lock)
        self.error = None

    def _check(self):
        if self.error is not None:
            raise self.error

    def submit(self, fn, *args):
        self._check()
        self._slots.acquire()
        try:
            self._check()
            future = self._pool.submit(fn, *args)
        except BaseException:
            self._slots.release()
            raise
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future):
        with self._lock:
            self._pending.discard(future)
            if not future.cancelled() and future.exception() is not None \
                    and self.error is None:
                self.error = future.exception()
            self._idle.notify_all()
        self._slots.release()

    def wait(self):
        """Wait for every task; raise the first error."""
        with self._lock:
            while self._pending:
                self._idle.wait()
        self._check()

    def close(self):
        """Cancel what has not started and wait for what has."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
