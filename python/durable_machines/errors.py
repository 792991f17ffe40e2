"""Errors a workflow sees and raises, and how they cross to the engine as data."""

from __future__ import annotations

from typing import TypedDict

# The engine bounds what it stores of an error (core/planner.ts errorInfo); bounding here keeps a huge message
# from being built into a command at all.
MAX_ERROR_NAME_CHARS = 256
MAX_ERROR_MESSAGE_CHARS = 4096


class _NamedError(TypedDict):
    name: str
    message: str


class ErrorInfo(_NamedError, total=False):
    """An error as the engine keeps it: a name and a message; `nonRetryable` ends a step's retries."""

    nonRetryable: bool


class NonRetryableError(Exception):
    """Raised by a step to fail it at once, without its remaining retries (Cloudflare's `workers.workflows`)."""


class WorkflowError(Exception):
    """An error the engine recorded for a step or a wait, raised in run() with the name it was recorded under."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"


class WorkflowTimeoutError(WorkflowError):
    """A `wait_for_event` whose timeout passed before its event came (the engine's `WorkflowTimeoutError`)."""


class WorkflowFatalError(WorkflowError):
    """A call the engine refused (a name too long, the step limit, a sleep into the past): Cloudflare's name and message."""


class NotSerializableError(TypeError):
    """A value that cannot cross to the engine: only JSON (and aware datetimes) can."""


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_info(error: BaseException) -> ErrorInfo:
    """What the engine records of an exception a step or run() raised."""
    # A recorded error raised again keeps the name and message it was recorded with (its str() adds the name).
    name, message = (error.name, error.message) if isinstance(error, WorkflowError) else (type(error).__name__, str(error))
    info: ErrorInfo = {
        "name": _bounded(name, MAX_ERROR_NAME_CHARS),
        "message": _bounded(message, MAX_ERROR_MESSAGE_CHARS),
    }
    if isinstance(error, NonRetryableError):
        info["nonRetryable"] = True
    return info


# Recorded errors come back as these classes, as Cloudflare's SDK maps them back from JavaScript
# (`except TypeError` around a step keeps working); any other name is a WorkflowError carrying it.
_BUILTIN: dict[str, type[Exception]] = {"TypeError": TypeError, "ValueError": ValueError}
_RECORDED: dict[str, type[WorkflowError]] = {"WorkflowTimeoutError": WorkflowTimeoutError, "WorkflowFatalError": WorkflowFatalError}


def to_exception(info: ErrorInfo) -> Exception:
    """The exception run() receives for an error the engine recorded."""
    name, message = info["name"], info["message"]
    if name == "NonRetryableError":
        return NonRetryableError(message)
    builtin = _BUILTIN.get(name)
    if builtin is not None:
        return builtin(message)
    return _RECORDED.get(name, WorkflowError)(name, message)
