"""The way back from a change: how reversible each change is, and what a rollback plan undoes (pure)."""
