"""Kubernetes manifests in: files, directories, kustomizations, standard input, and node inventories."""
