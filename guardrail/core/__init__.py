"""Pure domain: records and functions, no I/O and no knowledge of the tools at the edges."""
