from bwc.cli import main

raise SystemExit(main())
