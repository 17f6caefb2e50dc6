"""Protocol v2 (contracts/v2/Types.sol) in Python: structs, their ABI encodings and hashes, EIP-712 types, quotes."""
