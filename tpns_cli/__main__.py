"""``python -m tpns_cli``: the same as the ``tpns-bindings`` console script."""

from __future__ import annotations

import sys

from tpns_cli.cli import main

sys.exit(main())
