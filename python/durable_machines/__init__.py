"""
durable-machines for Python: write workflows with Cloudflare's Python Workflows API and run them on CPython,
orchestrated durably by the durable-machines engine.
"""

from .client import ApiError, BatchError, Client
from .durations import InvalidDurationError
from .entrypoint import WorkflowEntrypoint, WorkflowEvent, run_workflow
from .errors import (
    ErrorInfo,
    NonRetryableError,
    NotSerializableError,
    WorkflowError,
    WorkflowFatalError,
    WorkflowTimeoutError,
)
from .journal import (
    DelayAnswer,
    DelayMs,
    Failed,
    FatalEnd,
    Journal,
    Outcome,
    ReceivedEvent,
    RollbackHandler,
    RollbackRequest,
    StepCall,
    StepContext,
    Succeeded,
)
from .step import StepFunction, WorkflowStep
from .values import JsonValue

__all__ = [
    "ApiError",
    "BatchError",
    "Client",
    "DelayAnswer",
    "DelayMs",
    "ErrorInfo",
    "Failed",
    "FatalEnd",
    "InvalidDurationError",
    "Journal",
    "JsonValue",
    "NonRetryableError",
    "NotSerializableError",
    "Outcome",
    "ReceivedEvent",
    "RollbackHandler",
    "RollbackRequest",
    "StepCall",
    "StepContext",
    "StepFunction",
    "Succeeded",
    "WorkflowEntrypoint",
    "WorkflowError",
    "WorkflowEvent",
    "WorkflowFatalError",
    "WorkflowStep",
    "WorkflowTimeoutError",
    "run_workflow",
]
