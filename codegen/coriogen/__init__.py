# SPDX-License-Identifier: MIT
"""coriogen: turns C with async/await into corio state machines.

See codegen/README.md for the module map and docs/codegen.md for the
input language.
"""

__version__ = "0.1.0"
