"""``python -m clv.cli``."""

from clv.cli import main

main()
