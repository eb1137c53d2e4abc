"""``python -m netlab.rootless holder | run -- ARGV | kernel -- ARGV | stop``: the entry
points of rootless mode (see :mod:`netlab.kernel.userns`).

``kernel`` is what the "Python 3 (netlab)" Jupyter kernel runs: without root, it starts the
notebook kernel inside the user's namespaces; as root it simply runs it.
"""

import sys

from netlab.kernel.userns import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
