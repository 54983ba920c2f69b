"""Click commands registered in ``ytempire.cli.LAZY_COMMANDS``, one module per group."""
