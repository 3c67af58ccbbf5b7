"""Small helpers shared across rwafolio (bottom layer: they import nothing but ``exceptions``).

- :mod:`~rwafolio.utils.progress`: one progress reporter (a bar on a terminal, periodic one-line
  updates otherwise, both on stderr);
- :mod:`~rwafolio.utils.validation`: argument checks that raise typed errors naming the parameter;
- :mod:`~rwafolio.utils.jsonable`: conversion of numpy/pandas/dataclass values to plain JSON.
"""

from __future__ import annotations

from rwafolio.utils.jsonable import jsonable
from rwafolio.utils.progress import Progress, progress, step
from rwafolio.utils.validation import check_choice, check_int, check_number

__all__ = ["Progress", "check_choice", "check_int", "check_number", "jsonable", "progress", "step"]
