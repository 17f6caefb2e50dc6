"""Documents from outside (order specs, quality reports, signed attestations), each validated into one-line errors."""
