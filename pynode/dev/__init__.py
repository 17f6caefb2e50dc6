"""Local development network: real anvil and Kubo processes on 127.0.0.1.

Used by `fabmesh dev up|down`, `make demo` and the integration tests. It runs
from a source checkout, where `make` has installed anvil (node_modules) and
built Kubo (.tools/bin).
"""
