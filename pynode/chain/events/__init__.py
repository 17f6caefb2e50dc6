"""Contract events: the fast decoder and the one bounded, checked ``eth_getLogs`` reader."""
