"""Chain access with web3.py: connection, deployments, typed contract wrappers, transactions."""
