"""Cloudflare's import path (`from workers import WorkflowEntrypoint`), so workflows move over unchanged."""

from durable_machines import WorkflowEntrypoint

__all__ = ["WorkflowEntrypoint"]
