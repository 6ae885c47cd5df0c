from guardrail.cli.main import entry

entry()
