"""Racing threads for the tests of state changes that hinge on a read: each thread has its
own app context and session, does its reads first (as a request would, without SQLite's
write lock), then all act at once, released by a barrier."""

import threading
from collections.abc import Callable

from forum.extensions import db
from forum.sqlite import write_intent


def race(app, count: int, prepare: Callable[[int], tuple], act: Callable[..., object]) -> list:
    """Run ``act(*prepare(i))`` in ``count`` threads; the reads of ``prepare`` are done by
    all before any ``act`` starts. Returns each thread's result or exception."""
    barrier = threading.Barrier(count, timeout=30)
    results: list = [None] * count

    def run(i: int) -> None:
        with app.app_context():
            try:
                # Read as a request would before its write: without SQLite's write lock
                # (else the first thread would hold it at the barrier), and ending the read.
                reading = write_intent.set(False)
                args = prepare(i)
                db.session.commit()
                write_intent.reset(reading)
                barrier.wait()
                results[i] = act(*args)
            except Exception as error:
                results[i] = error
            finally:
                db.session.remove()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    return results
