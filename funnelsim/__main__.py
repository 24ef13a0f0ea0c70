from funnelsim.cli import main

raise SystemExit(main())
