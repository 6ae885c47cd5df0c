"""Built-in rules, one concern per module."""
