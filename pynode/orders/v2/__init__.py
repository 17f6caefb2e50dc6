"""The buyer's side on protocol v2: its actions (buyer.py) and the watcher that awards by policy (watch.py)."""
