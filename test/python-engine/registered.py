"""Every Python workflow the test Worker (worker.ts) registers, by its name there: the examples, the twin, the counted."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "python"))

from app import workflows as examples  # noqa: E402  (examples/python/app.py)
from conformance import Twin  # noqa: E402
from counted import Counted  # noqa: E402

workflows = {**examples, "twin-py": Twin, "py-counted": Counted}
