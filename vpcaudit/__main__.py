"""Allow `python -m vpcaudit`."""

from vpcaudit.cli import main

raise SystemExit(main())
