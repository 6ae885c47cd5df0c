"""Blast radius: the dependency graph of a plan, the impact of each destructive change, and related checks.

- graph.build_graph(configuration, prior_state, changes) -> DependencyGraph
- impact.analyse(changeset, critical=(), graph=None) -> BlastRadius (impacts, as_records() for json)
- tree.build_tree(impact) -> ImpactTree; tree.tree_lines(tree) for text
- names.find_confusable(changeset, resources) -> look-alike names of destructive changes (edits.NameIndex finds
  the names close to one without comparing every pair)
- drift.reverted_drift(changeset) -> drifted attributes the plan overwrites
"""
