"""``python -m netlab`` is the ``netlab`` command."""

import sys

from netlab.cli.main import main

sys.exit(main())
