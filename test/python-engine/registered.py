"""
The Python workflows the test Worker (worker.ts) registers, by their names there, in the groups the suite's worker
processes serve: `examples` (examples/python), `twins` (the conformance twin), `counted` (the kill tests'), `workflows`
(all of them).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "python"))

from app import workflows as examples  # noqa: E402  (examples/python/app.py)
from conformance import Twin  # noqa: E402
from counted import Counted  # noqa: E402

twins = {"twin-py": Twin}
counted = {"py-counted": Counted}
workflows = {**examples, **twins, **counted}
