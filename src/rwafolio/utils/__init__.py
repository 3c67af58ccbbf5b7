"""Small helpers shared across rwafolio (bottom layer: they import nothing but ``exceptions``).

- :mod:`~rwafolio.utils.progress`: one progress reporter (a bar on a terminal, periodic one-line
  updates otherwise, both on stderr);
- :mod:`~rwafolio.utils.validation`: argument checks that raise typed errors naming the parameter;
- :mod:`~rwafolio.utils.jsonable`: conversion of numpy/pandas/dataclass values to plain JSON.

Import from the modules themselves (``from rwafolio.utils.progress import Progress``); the
package re-exports nothing, so a module name never hides behind a function of the same name.
"""

from __future__ import annotations

__all__: list[str] = []
