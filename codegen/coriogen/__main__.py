# SPDX-License-Identifier: MIT
"""Entry point for `python3 -m coriogen`."""

import sys

from .cli import main

sys.exit(main())
