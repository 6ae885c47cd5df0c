from guardrail.cli.main import run

run()
