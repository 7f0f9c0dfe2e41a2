"""The Numba backend: loop kernels compiled on first use and cached on disk."""
