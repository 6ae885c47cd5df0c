"""Deterministic simulators that implement the cluster port in simulated time: `rehearse` and the tests
run the real engines against them. They know the truth (each pod's API calls, what a request costs, how
long a machine boots); the engines see only what a real cluster shows and never learn it is not real.
"""
