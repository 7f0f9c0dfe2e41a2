"""Compiled kernels, one package per backend (see :mod:`handgrad.backend`). Each kernel
replaces one reference operation of :mod:`handgrad.functional` and is tested equal to it."""
