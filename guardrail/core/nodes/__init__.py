"""Node-pool cycles in the core: which nodes a pool is, its strata, budgets and capacity, and the state
machine that cycles it node by node. Pure: no clock, no I/O; the services loop and the cluster port act."""
