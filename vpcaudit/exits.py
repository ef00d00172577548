"""Exit codes: 0 clean or reachable, 1 findings or not reachable, 2 bad input, 3 incomplete
or unknown, 4 a bug."""

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_INTERNAL = 0, 1, 2, 3, 4
