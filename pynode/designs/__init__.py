"""Design files: what can be learned from a design before it is encrypted (its public geometry)."""
