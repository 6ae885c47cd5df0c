"""Deterministic simulators implementing the cluster port in simulated time: `rehearse` and the tests run
the real engines against them, and the engines never learn that the cluster is not real."""
