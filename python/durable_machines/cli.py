"""
The command line: `python -m durable_machines worker SPEC... --url URL [--token TOKEN]`.

A SPEC names where the workflows are, `module:attribute` or `path/to/file.py:attribute`, the attribute being
- a dict of the engine's workflow name -> WorkflowEntrypoint subclass,
- a list (or tuple) of subclasses, each named by its `name` attribute when it has a string one, else its class name,
- or one subclass, named the same way, or by `=name` after the spec (`app:Pipeline=pipeline`).

SIGTERM or SIGINT stops the worker gracefully: it claims nothing more, lets the passes under way run on for up to
`--shutdown-grace` seconds, releases those still running (the engine gives them to another worker at once) and exits
0. A second signal stops it at once.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TypeGuard

from .entrypoint import WorkflowEntrypoint
from .worker import DEFAULT_CONCURRENCY, DEFAULT_SHUTDOWN_GRACE_SECONDS, WorkerError, logger, serve

Workflows = dict[str, type[WorkflowEntrypoint]]

EXAMPLE = "app:workflows, app:Pipeline=pipeline or examples/python/app.py:workflows"


def _is_workflow(value: object) -> TypeGuard[type[WorkflowEntrypoint]]:
    return isinstance(value, type) and issubclass(value, WorkflowEntrypoint)


def workflow_name(workflow_class: type[WorkflowEntrypoint]) -> str:
    """The name the engine knows a class by when none is given: its `name` attribute if a string, else its class name."""
    name = getattr(workflow_class, "name", None)
    return name if isinstance(name, str) and name else workflow_class.__name__


def _import(target: str, spec: str) -> ModuleType:
    """A module by name, or a Python file by path (its directory importable, so it can import its neighbours)."""
    if target.endswith(".py") or os.sep in target or "/" in target:
        path = Path(target).resolve()
        if not path.is_file():
            raise WorkerError(f"No file {path} for {spec!r}")
        loaded = sys.modules.get(path.stem)
        if loaded is not None and getattr(loaded, "__file__", None) and Path(str(loaded.__file__)).resolve() == path:
            return loaded  # Imported already (by name, or by an earlier spec): the same classes, not a second copy.
        loader_spec = importlib.util.spec_from_file_location(path.stem, path)
        if loader_spec is None or loader_spec.loader is None:
            raise WorkerError(f"Cannot load {path} as Python for {spec!r}")
        sys.path.insert(0, str(path.parent))
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[path.stem] = module
        try:
            loader_spec.loader.exec_module(module)
        except Exception as error:
            raise WorkerError(f"Importing {path} for {spec!r} failed: {type(error).__name__}: {error}") from error
        return module
    try:
        return importlib.import_module(target)
    except ImportError as error:
        raise WorkerError(f"Cannot import {target!r} for {spec!r}: {error}") from error


def load_workflows(spec: str) -> Workflows:
    """The workflows a spec names, by the engine's name for each (see the module's docstring)."""
    target, _, given_name = spec.partition("=")
    module_name, _, attribute = target.rpartition(":")
    if not module_name or not attribute:
        raise WorkerError(f"{spec!r} names no workflows: write module:attribute, for example {EXAMPLE}")
    value: object = _import(module_name, spec)
    for part in attribute.split("."):
        if not hasattr(value, part):
            raise WorkerError(f"{module_name} has no attribute {attribute!r} ({spec!r})")
        value = getattr(value, part)
    if given_name and not _is_workflow(value):
        raise WorkerError(f"{spec!r}: `=name` names one class, but {attribute} is {type(value).__name__}; a dict names its workflows itself")
    if _is_workflow(value):
        return {given_name or workflow_name(value): value}
    if isinstance(value, dict):
        for name, workflow_class in value.items():
            if not isinstance(name, str) or not _is_workflow(workflow_class):
                raise WorkerError(f"{spec!r}: {attribute} must map workflow names to WorkflowEntrypoint subclasses, but holds {name!r}: {workflow_class!r}")
        return dict(value)
    if isinstance(value, (list, tuple)):
        workflows: Workflows = {}
        for workflow_class in value:
            if not _is_workflow(workflow_class):
                raise WorkerError(f"{spec!r}: {attribute} must hold WorkflowEntrypoint subclasses, but holds {workflow_class!r}")
            name = workflow_name(workflow_class)
            if name in workflows:
                raise WorkerError(f"{spec!r}: two workflows are named {name!r}; give one a `name` attribute, or use a dict")
            workflows[name] = workflow_class
        return workflows
    raise WorkerError(f"{spec!r}: {attribute} is {type(value).__name__}, not a WorkflowEntrypoint subclass, a list of them or a dict of name -> subclass")


def load_all(specs: Sequence[str]) -> Workflows:
    workflows: Workflows = {}
    for spec in specs:
        for name, workflow_class in load_workflows(spec).items():
            if name in workflows and workflows[name] is not workflow_class:
                raise WorkerError(f"Two workflows are named {name!r} ({workflows[name].__name__} and {workflow_class.__name__})")
            workflows[name] = workflow_class
    if not workflows:
        raise WorkerError("The specs name no workflows.")
    return workflows


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m durable_machines", description="durable-machines for Python.")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker", help="run Python workflows for a durable-machines engine", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    worker.add_argument("specs", nargs="+", metavar="SPEC", help=f"where the workflows are: {EXAMPLE}")
    worker.add_argument("--url", default=os.environ.get("DURABLE_MACHINES_URL"), help="the engine's base URL (or DURABLE_MACHINES_URL)")
    worker.add_argument("--token", default=os.environ.get("PYTHON_WORKER_TOKEN"), help="the engine's PYTHON_WORKER_TOKEN (default: that environment variable, which keeps it out of the process list)")
    worker.add_argument("--concurrency", "--capacity", type=int, default=DEFAULT_CONCURRENCY, help=f"passes run at once (default {DEFAULT_CONCURRENCY})")
    worker.add_argument("--worker-id", default=None, help="how the engine names this worker (default host/pid)")
    worker.add_argument("--shutdown-grace", type=float, default=DEFAULT_SHUTDOWN_GRACE_SECONDS, help=f"seconds running passes may go on after SIGTERM or SIGINT (default {DEFAULT_SHUTDOWN_GRACE_SECONDS:g})")
    return parser


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _parser()
    arguments = parser.parse_args(argv)
    if not arguments.url:
        parser.error("--url (or DURABLE_MACHINES_URL) is required")
    if not arguments.token:
        parser.error("--token (or PYTHON_WORKER_TOKEN) is required")
    if arguments.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    if arguments.shutdown_grace < 0:
        parser.error("--shutdown-grace cannot be negative")
    return arguments


async def _serve_until_signalled(arguments: argparse.Namespace, workflows: Workflows) -> int:
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    stop = asyncio.Event()
    forced = False

    def signalled(signum: signal.Signals) -> None:
        nonlocal forced
        if not stop.is_set():
            logger.info("durable_machines: %s: stopping; nothing more is claimed", signum.name)
            stop.set()
        else:
            logger.warning("durable_machines: %s again: stopping at once", signum.name)
            forced = True
            main.cancel()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, signalled, signum)
    try:
        await serve(arguments.url, arguments.token, workflows, worker_id=arguments.worker_id, concurrency=arguments.concurrency, stop=stop,
                    shutdown_grace=arguments.shutdown_grace)
    except asyncio.CancelledError:
        if not forced:
            raise
        return 1
    logger.info("durable_machines: stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # httpx logs every request at INFO: a line per step call would drown the worker's own messages (and cost time).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Modules named on the command line are found from where the worker was started, as `python -m` does.
    sys.path.insert(0, os.getcwd())
    try:
        workflows = load_all(arguments.specs)
        logger.info("durable_machines: serving %s at %s", ", ".join(sorted(workflows)), arguments.url)
        return asyncio.run(_serve_until_signalled(arguments, workflows))
    except WorkerError as error:
        print(f"durable_machines worker: {error}", file=sys.stderr)
        return 2
