"""Everything that talks to AWS: sessions, regions, and the read-only collectors."""
