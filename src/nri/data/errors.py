"""The one exception of the data layer: :class:`DataError`.

A leaf module (it imports nothing of :mod:`nri`), so that every reader, checker and
loader of :mod:`nri.data` can raise it without importing another reader. It is also
importable from :mod:`nri.data.files` and :mod:`nri.data.dataset`, where it lived
before.
"""

from __future__ import annotations

__all__ = ["DataError"]


class DataError(ValueError):
    """A data set is missing, incomplete, corrupt or inconsistent: one line naming
    the file (or array), the problem and what to do."""
