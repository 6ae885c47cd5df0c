"""Use cases: each composes the core with the ports the wiring picked."""
