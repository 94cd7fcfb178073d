"""Email digests: subscribers, digest building and rendering, SMTP sending exactly once (DESIGN.md §6)."""
