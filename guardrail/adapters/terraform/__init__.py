"""Terraform: running the CLI and reading its JSON plans."""
