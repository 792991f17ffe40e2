"""Cloudflare's `workers.workflows` import path for NonRetryableError."""

from durable_machines import NonRetryableError

__all__ = ["NonRetryableError"]
