"""The manufacturer daemon on protocol v2 (node.toml ``protocol = 2``), beside v1's (pynode/daemon/node.py).

    decide.py   what a job does next: quote or decline, check an award, reject, produce, ship, answer a dispute
    quoting.py  the shop's state for the quote policy, keyed quote nonces, signing and republishing quotes
    design.py   an award's design: decrypted with the node's HPKE key, measured again, checked against the spec
    making.py   production through the v1 adapters and the quality report, pinned once
    act.py      the facts a decision asks for, and each step carried out
    node.py     the wiring, the scan of the book's events, the announcements heard, the cycle
"""
