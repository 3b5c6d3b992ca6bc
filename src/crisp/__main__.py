import sys

from crisp.cli.main import main

sys.exit(main())
