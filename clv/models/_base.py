"""Former home of the models' machinery, now split (DESIGN.md, "Layout"); old imports only.

``collapse_rows`` is in :mod:`clv.models._arrays`, ``units_per_year`` in
:mod:`clv._validation`. Import from there; this module goes once nothing imports it.
"""

from clv._validation import units_per_year
from clv.models._arrays import collapse_rows

__all__ = ["collapse_rows", "units_per_year"]
