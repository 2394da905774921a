"""Make ``import calibration`` mean the package, not this test folder.

pytest puts ``tests/`` on ``sys.path`` (rootdir conftest, no ``__init__.py``),
where ``tests/calibration`` would be found as a namespace package before the
editable install's finder is asked. The repository root goes first instead.
(``pythonpath = ["."]`` in the pytest settings would do the same for all tests.)
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
for _name in [m for m in sys.modules if m == "calibration" or m.startswith("calibration.")]:
    if getattr(sys.modules[_name], "__file__", None) is None:
        del sys.modules[_name]
