from agentkeel.cli import main

raise SystemExit(main())
