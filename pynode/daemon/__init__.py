"""The manufacturer node daemon: chain watching, job state, production adapters, reports, metrics."""
