import sys

from shared_code.cli import main

sys.exit(main())
