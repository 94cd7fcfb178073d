"""Per-site article parsers: small ArticleParser subclasses for the few sites whose markup the
generic parser cannot read. Named in the registry as `parser = "scrapers.parsers.<module>.<Class>"`."""
