"""Run services until SIGTERM or SIGINT, then stop them in order."""

import signal
import threading


def run_until_signalled(start, stop):
    """Call ``start()``, wait for SIGTERM/SIGINT, then call ``stop()``."""
    stopping = threading.Event()

    def _on_signal(signum, frame):
        stopping.set()

    previous = {sig: signal.signal(sig, _on_signal)
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        start()
        while not stopping.wait(1):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop()
