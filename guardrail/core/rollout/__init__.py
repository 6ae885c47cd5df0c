"""A fleet canary for cluster-wide config (telemetry DaemonSets): the plan (clusters smallest first, node
batches, soaks), the health gates, the control-plane load projection and the state machine that, given
its state and an observation, names the next action. No clock and no I/O: the services loop drives it
through the cluster port, on real clusters or on the simulator (`rollout rehearse`).
"""
