"""Raven's progressive matrices on the shapes renderer: problems, solvers, training (docs/raven.md)."""
