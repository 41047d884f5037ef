"""One job run aside, in a forked child process, while this process goes on with other work.

``netstrata run`` writes the HTML report this way while it writes ``results.json``, the curve and
the tables (on the generated 100-trial review: a 3.6 s report beside 3 s of writing). The child
inherits the job's inputs (nothing is pickled) and sends back whether the job returned something
(or None, or raised) and what it printed, which this process prints when the result is asked for. It
is used only where it is safe and pays: the platform forks, no other thread of this process is
alive (a fork copies locks other threads may hold) and a second core is idle; otherwise the job
runs in this process when its result is asked for, with the same outcome.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import traceback

__all__ = ["Aside"]


def _child(conn, fn, args, kwargs) -> None:
    """Run the job with its printed output captured, and send (success, stdout, stderr) back: the
    parent prints them, so they reach whatever this process's streams were (a terminal, a test's
    capture) and appear where the job would have printed them."""
    out, err = io.StringIO(), io.StringIO()
    ok = False
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            ok = fn(*args, **kwargs) is not None
    except BaseException:          # noqa: BLE001 - reported to the parent as a failure, with the traceback
        err.write(traceback.format_exc())
    finally:
        conn.send((ok, out.getvalue(), err.getvalue()))
        conn.close()
        os._exit(0)


class Aside:
    """``fn(*args, **kwargs)`` in a forked child (``enabled`` and safe, see the module docstring) or,
    failing that, in this process at :meth:`result`."""

    def __init__(self, fn, *args, enabled: bool = True, **kwargs):
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._proc = None
        if enabled and threading.active_count() == 1:
            import multiprocessing as mp
            try:
                ctx = mp.get_context("fork")
            except ValueError:  # pragma: no cover - no fork on this platform
                return
            self._conn, child_end = ctx.Pipe(duplex=False)
            self._proc = ctx.Process(target=_child, args=(child_end, fn, args, kwargs), name="netstrata-aside",
                                     daemon=True)
            self._proc.start()
            child_end.close()

    @property
    def forked(self) -> bool:
        return self._proc is not None

    def result(self) -> bool:
        """True when the job returned something other than None (waits for the child)."""
        if self._proc is None:
            return self._fn(*self._args, **self._kwargs) is not None
        try:
            ok, out, err = self._conn.recv()
        except EOFError:               # the child ended without a word (killed)
            ok, out, err = False, "", ""
        self._proc.join()
        sys.stdout.write(out)
        sys.stderr.write(err)
        return bool(ok)

    def cancel(self) -> None:
        """Stop the child if it still runs."""
        if self._proc is not None and self._proc.is_alive():
            self._proc.terminate()
            self._proc.join()
