"""Click commands registered lazily in ``ytempire.cli.LAZY_COMMANDS``."""
