import sys

from allscope.cli import main

sys.exit(main())
