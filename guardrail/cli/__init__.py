"""The command line: parse arguments, call one service, render, map to an exit code."""
