"""``python -m tests.stub_botapi``: the same as ``python -m sandbox.stub_botapi``."""

import sys

from sandbox.stub_botapi.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
