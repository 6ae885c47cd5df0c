"""The app's screens: Review, Locks, Approvals, Audit."""
