"""Kubernetes clusters: the cluster port over the official client, and the API server's metrics text."""
