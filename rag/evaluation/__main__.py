"""`python -m rag.evaluation …`: the same as `rag eval …`."""

import sys

from .command import main

sys.exit(main())
