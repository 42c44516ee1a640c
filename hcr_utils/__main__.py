"""``python -m hcr_utils``: see :mod:`hcr_utils.cli`."""

from .cli import main

raise SystemExit(main())
