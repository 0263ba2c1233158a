"""``python -m nri``: the same command line as the ``nri`` entry point."""

from nri.cli import main

raise SystemExit(main())
