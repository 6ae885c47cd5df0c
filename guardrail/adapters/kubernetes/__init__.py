"""Kubernetes clusters from the outside: the cluster port over the official client, and the readers of
what API servers and cluster add-ons expose (metrics text via prometheus_client)."""
