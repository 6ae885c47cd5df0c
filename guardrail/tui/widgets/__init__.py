"""Widgets the screens share: the change list, the change detail, modals."""
