"""Accounts: Web3 Secret Storage v3 keystores and the partner's HPKE key pair."""
