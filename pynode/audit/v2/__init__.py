"""The protocol-v2 auditor beside v1's (pynode/audit): facts.py (what checks are given, the fold), checks.py (both
chains, parameters, quotes, attestations, timing, documents), arbitration.py, governance.py, report.py (the v1
report model), verify.py (AuditorV2 over JSON-RPC), epcis.py (the v2 EPCIS 2.0 export)."""
