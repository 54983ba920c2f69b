"""Click commands registered in ``ytempire_cli.main.LAZY_COMMANDS``, one module per group."""
