"""`python -m durable_machines worker ...`: see durable_machines/cli.py."""

import sys

from .cli import main

sys.exit(main())
