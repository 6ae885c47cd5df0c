"""The operator's terminal app (Textual): a face of the same services as the CLI."""
