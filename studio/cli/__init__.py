"""The `studio` command and its subcommands."""
