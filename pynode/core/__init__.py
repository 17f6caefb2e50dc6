"""Foundations every layer may import: the error hierarchy, backoff, stop flags, strict JSON, settings."""
