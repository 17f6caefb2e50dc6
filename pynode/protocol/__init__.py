"""What the contracts define, in Python, once: statuses, record kinds, partner flags, order structs, EIP-712 types."""
