"""IPFS access through a Kubo RPC endpoint, and the encrypted design vault on top of it."""
