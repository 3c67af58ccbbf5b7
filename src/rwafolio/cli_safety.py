"""The command line's safety net: output checks per command, ``--force``/``--debug``, and the one
top-level handler that turns every error into one line.

- :func:`check_outputs_of` gathers a command's outputs and inputs from its parsed arguments (and,
  once data is loaded, the files the loader read) and calls :func:`rwafolio.outputs.check_outputs`.
- :func:`run_command` runs a command: an error rwafolio raises on purpose prints as
  ``rwafolio CMD: error: ...`` (exit 2); any other exception as one line naming the command, the
  failing step (:func:`failing_step`) and the exception, with a hint to use ``--debug`` (exit 1);
  Ctrl-C as ``interrupted`` (exit 130); a closed stdout pipe (``| head``) ends quietly (exit
  141, as SIGPIPE would). ``--debug`` also prints the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rwafolio.exceptions import RwafolioError


def check_outputs_of(
    args: argparse.Namespace, outputs: list[tuple[str, Any, Any]], panel: Any = None
) -> None:
    """Refuse unsafe outputs before anything is written (:func:`rwafolio.outputs.check_outputs`).

    Parameters
    ----------
    args : Namespace
        The command's arguments: ``config``, ``grid``, ``run`` and ``vix`` files are inputs,
        ``data_dir`` and ``cache_dir`` are data folders, ``force`` allows replacing a user's file.
    outputs : list of (flag, path or None, kind)
        ``kind`` is ``"report"`` or ``"run"``; a None path is skipped.
    panel : Panel or None
        When given, the data files it was loaded from (and a ``--vix`` file) are inputs too.
    """
    from rwafolio.outputs import Output, check_outputs

    outs = [Output(flag, Path(p), kind) for flag, p, kind in outputs if p]
    inputs = [getattr(args, k, None) for k in ("config", "grid", "run", "vix")]
    if panel is not None:
        inputs += list(panel.meta.get("files", {}).values())
        if str(panel.vix_source).startswith("file:"):
            inputs.append(str(panel.vix_source)[len("file:") :])
    folders = [*(getattr(args, "data_dir", None) or [])]
    if getattr(args, "cache_dir", None):
        folders.append(args.cache_dir)
    check_outputs(
        outs,
        inputs=[p for p in inputs if p],
        data_dirs=folders,
        force=getattr(args, "force", False),
    )


def ensure_parent_of(path: Any, flag: str) -> Path:
    """Create the folder of output ``flag``'s path; a typed error naming the flag if it cannot."""
    from rwafolio.outputs import ensure_parent

    return ensure_parent(path, f"`{flag}`")


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, at most 160 characters."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return text if len(text) <= 160 else text[:157] + "..."


_STEPS = {
    "loaders": "loading data", "config": "reading the config", "universe": "reading the config",
    "backtest": "backtesting", "strategies": "deciding weights", "optimize": "optimizing",
    "risk": "forecasting risk", "reports": "writing the report", "outputs": "writing an output",
    "walkforward": "walking forward",
    "tasks": "running tasks", "studies": "running a study",
    "live": "rebalancing",
}  # fmt: skip
_COMMAND_MODULES = ("cli", "cli_safety", "pipeline")


def failing_step(exc: BaseException) -> str:
    """Name the step an exception came from: the first rwafolio frame below the command code.

    Returns e.g. ``"loading data (loaders.api.load)"``; ``"the command (cli.cmd_var)"`` when the
    error was raised in the command code itself.
    """
    root = Path(__file__).resolve().parent
    last = "the command"
    for frame in traceback.extract_tb(exc.__traceback__):
        try:
            rel = Path(frame.filename).resolve().relative_to(root)
        except ValueError:
            continue
        module = ".".join(rel.with_suffix("").parts)
        if module in _COMMAND_MODULES or rel.parts[0] in _COMMAND_MODULES:
            last = f"the command ({module}.{frame.name})"
            continue
        step = _STEPS.get(rel.with_suffix("").parts[0], "the command")
        return f"{step} ({module}.{frame.name})"
    return last


def add_safety_flags(sub: Any) -> None:
    """``--debug`` on every command, ``--force`` on every command that writes a file."""
    writes = ("--out", "--save", "--json")
    for p in sub.choices.values():
        p.add_argument(
            "--debug", action="store_true", help="on an unexpected error, print the traceback"
        )
        if any(f in a.option_strings for a in p._actions for f in writes):
            p.add_argument(
                "--force",
                action="store_true",
                help="let an output replace an existing file rwafolio did not write",
            )


def _stdout_closed() -> bool:
    """Whether stdout's reader went away (a pipe whose read end is closed polls as an error;
    assumed where poll is missing); if so, stdout then points at the null device so the
    interpreter's last flush does not fail again (the Python docs' "Note on SIGPIPE")."""
    import select

    try:
        fd = sys.stdout.fileno()
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(fd, select.POLLOUT)
            if not any(ev & select.POLLERR for _, ev in poller.poll(0)):
                return False
        os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
    except (OSError, ValueError):
        pass
    return True


def run_command(args: argparse.Namespace, message: Callable[[str], str] = str) -> int:
    """Run ``args.func(args)``; every error becomes one line on stderr and an exit code.

    ``message`` rewrites the text of an error rwafolio raised on purpose (the CLI names flags
    for Python parameter names)."""
    debug = bool(getattr(args, "debug", False) or getattr(args, "debug_any", False))
    try:
        return int(args.func(args))
    except RwafolioError as exc:
        if debug:
            traceback.print_exc()
        print(f"rwafolio {args.command}: error: {message(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rwafolio {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the one place every unexpected error becomes one line
        if isinstance(exc, BrokenPipeError) and _stdout_closed():  # `rwafolio data | head -1`
            return 141  # quietly, as a shell tool killed by SIGPIPE (128 + 13)
        if debug:
            traceback.print_exc()
        print(
            f"rwafolio {args.command}: unexpected error while {failing_step(exc)}: "
            f"{type(exc).__name__}: {first_line(exc)} (run again with --debug for the "
            "traceback)",
            file=sys.stderr,
        )
        return 1
