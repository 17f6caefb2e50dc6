"""Provenance auditor: trusts only the chain, IPFS content addresses and signatures (see verify.py)."""
