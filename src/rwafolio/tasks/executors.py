"""One interface for independent tasks: local processes (default) or Dask distributed.

A task is a module-level function ``fn(shared, payload, seed) -> JSON-able value`` applied to a
:class:`Task`. ``shared`` (typically the price panel) is sent to each worker ONCE: through the
process pool's initializer locally, and with ``Client.scatter(broadcast=True)`` on Dask, so the
per-task overhead is the payload (a few parameters) and the result.

Rules every executor follows, so results are identical bit for bit whichever ran them:

- each task's seed is derived from the base seed and the task's key
  (:func:`~rwafolio.tasks.cache.task_seed`), never from the worker;
- a task that raises is retried once in the same worker, then reported as failed
  (:class:`TaskOutcome` with ``ok=False`` and the error text); it never aborts the sweep;
- results come back as completed; :func:`run_tasks` orders them by the tasks' order.

:func:`run_tasks` adds the on-disk cache: finished tasks are written as they complete, and a
re-run after an interruption only computes what is missing.

Executors: ``"local"`` (all cores), ``"local:N"``, ``"serial"`` (in this process),
``"dask://HOST:PORT"`` (or ``"tcp://HOST:PORT"``), or a ``distributed.Client``.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import threading
import time
import traceback
import uuid
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from rwafolio.exceptions import ConfigError
from rwafolio.tasks.cache import TaskCache, code_version, digest
from rwafolio.tasks.keys import CacheWarning, Unkeyable, fingerprint

TaskFn = Callable[[Any, Any, int], Any]


@dataclass(frozen=True)
class Task:
    """One independent unit of work.

    Attributes
    ----------
    key : str
        Stable, unique name (``"fold3/point17"``); seeds and cache entries derive from it.
    payload : Any
        Small, picklable, JSON-describable arguments (parameters, row ranges).
    seed : int
        The task's own seed (see :func:`~rwafolio.tasks.cache.task_seed`).
    """

    key: str
    payload: Any
    seed: int = 0


@dataclass(frozen=True)
class TaskOutcome:
    """What became of one task.

    Attributes
    ----------
    key : str
    ok : bool
    value : Any
        The function's JSON-able return value (None when failed).
    error : str
        Last error's type, message and traceback tail ("" when ok).
    attempts : int
        1, or 2 when retried; 0 when served from the cache.
    cached : bool
    seconds : float
        Wall time inside the worker (0 for cache hits).
    """

    key: str
    ok: bool
    value: Any
    error: str = ""
    attempts: int = 1
    cached: bool = False
    seconds: float = 0.0


def call_with_retry(fn: TaskFn, shared: Any, task: Task, retries: int = 1) -> TaskOutcome:
    """Run ``fn(shared, task.payload, task.seed)``; on an exception retry up to ``retries`` times."""
    err = ""
    t0 = time.perf_counter()
    for attempt in range(1, retries + 2):
        try:
            value = fn(shared, task.payload, task.seed)
        except Exception as exc:  # a task must never abort the sweep
            tb = traceback.format_exc(limit=3).strip().splitlines()
            err = f"{type(exc).__name__}: {exc} | " + " / ".join(tb[-3:])
            continue
        return TaskOutcome(task.key, True, value, "", attempt, False, time.perf_counter() - t0)
    return TaskOutcome(task.key, False, None, err, retries + 1, False, time.perf_counter() - t0)


class Executor(ABC):
    """Runs independent tasks and yields their outcomes as they complete."""

    #: Short description recorded in results ("local:2", "dask://127.0.0.1:8786").
    description: str = "executor"

    @abstractmethod
    def imap(self, fn: TaskFn, shared: Any, tasks: Sequence[Task]) -> Iterator[TaskOutcome]:
        """Outcomes of ``tasks`` in completion order. ``fn`` must be importable by workers."""

    def close(self) -> None:  # noqa: B027
        """Release resources this executor created (not ones passed in)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """Runs every task in this process, in order (the reference for the others)."""

    description = "serial"

    def imap(self, fn: TaskFn, shared: Any, tasks: Sequence[Task]) -> Iterator[TaskOutcome]:
        for t in tasks:
            yield call_with_retry(fn, shared, t)


# State a local worker process receives once from the pool initializer, keyed by a token so
# that nothing leaks between pools. It lives in worker processes only.
_WORKER_SHARED: dict[str, Any] = {}


#: Seconds between a worker's checks that its parent is still alive (the portable fallback).
PARENT_POLL_SECONDS = 0.5


def die_with_parent(parent_pid: int) -> None:
    """Make this process exit when its parent dies, even by ``kill -9``.

    On Linux the kernel sends SIGKILL at the parent's death (``prctl(PR_SET_PDEATHSIG)``; it
    fires when the thread that started this process exits, which for a pool is the thread that
    submitted the tasks). Everywhere, a daemon thread checks every
    :data:`PARENT_POLL_SECONDS` whether the process has been re-parented (its parent died) and
    exits at once if so.

    Parameters
    ----------
    parent_pid : int
        The pid of the process that started this one (checked once, for the race in which it
        died before this call).
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no libc prctl: the thread remains
            pass
    if os.getppid() != parent_pid:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_SECONDS)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="rwafolio-parent-watch", daemon=True).start()


def _init_worker(token: str, shared: Any, parent_pid: int | None = None) -> None:
    if parent_pid is not None:
        die_with_parent(parent_pid or os.getppid())
    try:  # one BLAS thread per worker: no oversubscription, same arithmetic as Dask workers
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover
        pass
    _WORKER_SHARED[token] = shared


def _local_task(token: str, fn: TaskFn, task: Task) -> TaskOutcome:
    return call_with_retry(fn, _WORKER_SHARED[token], task)


class LocalExecutor(Executor):
    """Local worker processes (``concurrent.futures.ProcessPoolExecutor``).

    Parameters
    ----------
    n_workers : int or None
        Worker processes; None uses every core (``os.cpu_count()``). With 1 the tasks run in
        this process (no pool to start).
    start_method : {"spawn", "forkserver", "fork"}, default "spawn"
        How workers start. ``spawn`` is safe with threads in the parent (Dask, tqdm). With
        ``spawn`` and ``fork`` the workers exit when this process dies, even by ``kill -9``
        (:func:`die_with_parent`); a ``forkserver``'s workers exit with the server.
    max_pending : int or None
        Tasks in flight at once (default 4 per worker), to bound memory on huge sweeps.
    """

    def __init__(
        self,
        n_workers: int | None = None,
        *,
        start_method: str = "spawn",
        max_pending: int | None = None,
    ) -> None:
        n = (os.cpu_count() or 1) if n_workers is None else int(n_workers)
        if n < 1:
            raise ConfigError(f"`n_workers` must be >= 1, got {n_workers!r}")
        if start_method not in ("spawn", "forkserver", "fork"):
            raise ConfigError(
                f"`start_method` must be 'spawn', 'forkserver' or 'fork', got {start_method!r}"
            )
        self.n_workers = n
        self.start_method = start_method
        self.max_pending = max_pending or 4 * n
        self.description = f"local:{n}"

    def imap(self, fn: TaskFn, shared: Any, tasks: Sequence[Task]) -> Iterator[TaskOutcome]:
        if self.n_workers == 1 or len(tasks) <= 1:
            yield from SerialExecutor().imap(fn, shared, tasks)
            return
        import multiprocessing

        token = uuid.uuid4().hex
        ctx = multiprocessing.get_context(self.start_method)
        pool = ProcessPoolExecutor(
            max_workers=min(self.n_workers, len(tasks)),
            mp_context=ctx,
            initializer=_init_worker,
            # fork/spawn workers are children of this process; a forkserver's are the server's
            # (which exits with this process): 0 tells them to watch whichever parent they have
            initargs=(token, shared, os.getpid() if self.start_method != "forkserver" else 0),
        )
        it = iter(tasks)
        pending: set[Future[TaskOutcome]] = set()
        try:
            for t in itertools.islice(it, self.max_pending):
                pending.add(pool.submit(_local_task, token, fn, t))
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield f.result()
                    nxt = next(it, None)
                    if nxt is not None:
                        pending.add(pool.submit(_local_task, token, fn, nxt))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _dask_task(fn: TaskFn, shared: Any, task: Task) -> TaskOutcome:
    try:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            return call_with_retry(fn, shared, task)
    except ImportError:  # pragma: no cover
        return call_with_retry(fn, shared, task)


class DaskExecutor(Executor):
    """Dask distributed: a scheduler address (``dask://HOST:PORT``) or a ``Client``.

    The shared object is scattered to every worker once (``broadcast=True``); each task is one
    ``client.submit`` with ``retries=1`` (so a lost worker's task is rerun elsewhere; exceptions
    are retried inside the task). A task the cluster cannot run (its worker lost twice, or its
    code not importable there) becomes a failed :class:`TaskOutcome`, like a task that raises.
    A client made from an address is private (never the process's default client) and closed by
    :meth:`close`; a client passed in is used as it is and left open.
    """

    def __init__(self, client_or_address: Any) -> None:
        from distributed import Client

        if isinstance(client_or_address, Client):
            self._client = client_or_address
            self._own = False
            addr = str(getattr(client_or_address.scheduler, "address", "?"))
        elif isinstance(client_or_address, str):
            addr = client_or_address
            if addr.startswith("dask://"):
                addr = "tcp://" + addr[len("dask://") :]
            if "://" not in addr:
                addr = "tcp://" + addr
            try:
                self._client = Client(addr, set_as_default=False, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise ConfigError(
                    f"`executor`: no Dask scheduler answered at {client_or_address!r} ({exc}); start one "
                    "(`dask scheduler`) or use `local`"
                ) from None
            self._own = True
        else:
            raise ConfigError(
                "`executor` must be 'dask://HOST:PORT' or a distributed.Client, got "
                f"{type(client_or_address).__name__}"
            )
        self.description = "dask://" + addr.split("://", 1)[-1]

    @property
    def client(self) -> Any:
        return self._client

    def imap(self, fn: TaskFn, shared: Any, tasks: Sequence[Task]) -> Iterator[TaskOutcome]:
        from distributed import as_completed

        client = self._client
        token = uuid.uuid4().hex[:12]
        shared_f = client.scatter(shared, broadcast=True, hash=False)
        futures = [
            client.submit(
                _dask_task, fn, shared_f, t, key=f"rwafolio-{token}-{i}", pure=False, retries=1
            )
            for i, t in enumerate(tasks)
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            # This client is not the default one (``set_as_default=False``): name its loop, or
            # ``as_completed`` looks for a default client and finds none.
            for fut in as_completed(futures, loop=client.loop):
                try:
                    yield fut.result()
                except Exception as exc:  # lost twice, or not loadable on the worker
                    text = " ".join(str(exc).split())
                    yield TaskOutcome(
                        tasks[index[fut.key]].key, False, None,
                        f"{type(exc).__name__}: {text} (on the Dask cluster: do the scheduler and "
                        "workers import the same rwafolio and task code?)", 2,
                    )  # fmt: skip
        finally:
            client.cancel(futures)
            client.cancel([shared_f])

    def close(self) -> None:
        if self._own:
            self._client.close()


def resolve_executor(spec: str | Executor | Any | None = None) -> Executor:
    """An :class:`Executor` from ``None``/``"local"`` (all cores), ``"local:N"``, ``"serial"``,
    ``"dask://HOST:PORT"``, ``"tcp://HOST:PORT"``, a ``distributed.Client`` or an Executor."""
    if spec is None:
        return LocalExecutor()
    if isinstance(spec, Executor):
        return spec
    if isinstance(spec, str):
        s = spec.strip()
        if s == "local":
            return LocalExecutor()
        if s.startswith("local:"):
            try:
                n = int(s.split(":", 1)[1])
            except ValueError:
                raise ConfigError(
                    f"`executor` 'local:N' needs an integer N, got {spec!r}"
                ) from None
            return LocalExecutor(n)
        if s == "serial":
            return SerialExecutor()
        if s.startswith(("dask://", "tcp://")):
            return DaskExecutor(s)
        raise ConfigError(
            "`executor` must be 'local', 'local:N', 'serial', 'dask://HOST:PORT' or a "
            f"distributed.Client, got {spec!r}"
        )
    if type(spec).__name__ == "Client":
        return DaskExecutor(spec)
    raise ConfigError(f"`executor` of type {type(spec).__name__} is not supported")


def _progress(total: int, enabled: bool | None, desc: str) -> Any:
    if enabled is None:
        enabled = sys.stderr.isatty() and not os.environ.get("CI")
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="task", leave=False)


def task_hashes(
    fn: TaskFn, tasks: Sequence[Task], shared: Any, context: Any
) -> tuple[dict[str, str], list[str]]:
    """Cache keys of ``tasks`` and the reasons some could not be keyed.

    A key covers the task function, the task's key, payload and seed, ``shared``, ``context``
    and rwafolio's code version, each through :func:`~rwafolio.tasks.keys.fingerprint`, which
    includes the code of every user class and function found in them. A task with any part that
    cannot be keyed gets no key (it is not cached); the reasons come back as text.
    """
    try:
        common = digest(
            {
                "fn": fingerprint(fn, "task function"),
                "shared": fingerprint(shared, "shared"),
                "context": fingerprint(context, "context"),
                "code": code_version(),
            }
        )
    except Unkeyable as exc:
        return {}, [str(exc)]
    keys: dict[str, str] = {}
    reasons: list[str] = []
    for t in tasks:
        try:
            payload = fingerprint(t.payload, f"task {t.key!r} payload")
        except Unkeyable as exc:
            reasons.append(str(exc))
            continue
        keys[t.key] = digest({"common": common, "key": t.key, "payload": payload, "seed": t.seed})
    return keys, reasons


def _tell(message: str) -> None:
    warnings.warn(message, CacheWarning, stacklevel=3)


def run_tasks(
    fn: TaskFn,
    tasks: Sequence[Task],
    *,
    shared: Any = None,
    executor: str | Executor | Any | None = None,
    cache: str | os.PathLike[str] | TaskCache | None = None,
    context: Any = None,
    progress: bool | None = None,
    desc: str = "tasks",
) -> dict[str, TaskOutcome]:
    """Run independent tasks through an executor, with an on-disk cache and retry-once.

    Parameters
    ----------
    fn : callable
        Module-level ``fn(shared, payload, seed) -> JSON-able value``.
    tasks : sequence of Task
        Keys must be unique.
    shared : Any
        Sent to each worker once (the panel, a strategy prototype); part of the cache key.
    executor : str, Executor, distributed.Client or None
        See :func:`resolve_executor` (None: local processes on all cores).
    cache : path, TaskCache or None
        Folder of finished results (JSON); None uses ``$RWAFOLIO_WALKFORWARD_CACHE`` if set.
    context : Any
        Anything else that determines a result; part of the cache key.
    progress : bool or None
        tqdm bar; None shows it on a terminal only (quiet when piped or when ``CI`` is set).

    Returns
    -------
    dict key -> TaskOutcome
        In the order of ``tasks``. Failed tasks have ``ok=False`` and are not cached.

    Warns
    -----
    CacheWarning
        Once per call when some tasks cannot be keyed (they run, uncached; the warning names
        what could not be keyed), and once when cache entries were rejected (unreadable, or
        content not matching its checksum; they are recomputed and rewritten).
    """
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise ConfigError("`tasks` keys must be unique")
    store = TaskCache.resolve(cache)
    outcomes: dict[str, TaskOutcome] = {}
    hashes: dict[str, str] = {}
    todo: list[Task] = []
    if store is not None:
        hashes, reasons = task_hashes(fn, tasks, shared, context)
        if reasons:
            _tell(
                f"task cache: {len(tasks) - len(hashes)} of {len(tasks)} task(s) not cached, "
                f"because their inputs cannot be keyed: {reasons[0]}"
            )
    rejected: list[str] = []
    for t in tasks:
        if t.key in hashes:
            found = store.lookup(hashes[t.key])  # type: ignore[union-attr]
            if found.status == "hit":
                outcomes[t.key] = TaskOutcome(t.key, True, found.value, "", 0, True, 0.0)
                continue
            if found.rejected:
                rejected.append(f"{found.path.name} ({found.status})")
        todo.append(t)
    if rejected:
        _tell(
            f"task cache: {len(rejected)} entr{'y' if len(rejected) == 1 else 'ies'} rejected and "
            f"recomputed (edited or damaged): {', '.join(rejected[:3])}"
            + (" ..." if len(rejected) > 3 else "")
        )
    ex = resolve_executor(executor)
    own = ex is not executor
    bar = _progress(len(todo), progress, desc)
    try:
        for out in ex.imap(fn, shared, todo):
            if out.ok and store is not None and out.key in hashes:
                store.put(hashes[out.key], out.value, key=out.key)
                # Read back what JSON stores, so cached and fresh runs agree exactly.
                out = TaskOutcome(
                    out.key, True, store.get(hashes[out.key]), "", out.attempts, False, out.seconds
                )
            outcomes[out.key] = out
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if own:
            ex.close()
    return {k: outcomes[k] for k in keys}
