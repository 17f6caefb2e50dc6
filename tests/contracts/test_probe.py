def test_probe(Probe, accounts):
    p = Probe.deploy({"from": accounts[0]})
    assert p.f.call() == 1
