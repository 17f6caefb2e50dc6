# fabmesh: every target bootstraps what it needs on first use and reuses it after.
#   make demo   run the local multi-organization network end to end
#   make test   compile, ruff + mypy, solhint, static analysis, contract tests, pynode tests
#   make deploy ARGS="--rpc-url URL --keystore FILE --password-file FILE ..."   deploy to any chain
#   make abi    refresh the ABIs shipped in the package from the compiled contracts
#   make lint-py   ruff and mypy over the Python code (make test runs it)
#   make gas | bench | soak | lock | clean

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
TOOLS := $(CURDIR)/.tools
SOLC_VERSION := $(shell sed -n 's/^ *version: *\([0-9][0-9.]*\) *$$/\1/p' brownie-config.yaml)

# node_modules/.bin holds anvil and solcjs, .tools/bin the Kubo `ipfs` and the `geth` binaries.
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(TOOLS)/bin:$(PATH)
# py-solc-x (and so brownie) finds the pinned compiler here, not in ~/.solcx.
export SOLCX_BINARY_PATH := $(TOOLS)/solcx
export PYTHONDONTWRITEBYTECODE := 1

VENV_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
IPFS_BIN := $(TOOLS)/bin/ipfs
GETH_BIN := $(TOOLS)/bin/geth
SOLC_BIN := $(SOLCX_BINARY_PATH)/solc-v$(SOLC_VERSION)
# A stamp beside, not in, the solcx folder (py-solc-x parses every solc-v* name
# there) and not the link itself (make would compare the link target's mtime).
SOLC_STAMP := $(TOOLS)/solc-v$(SOLC_VERSION).registered
HALMOS_BIN := $(TOOLS)/halmos/bin/halmos
OCTOPRINT_BIN := $(TOOLS)/octoprint/bin/octoprint
BUILD_STAMP := build/.compiled
CONTRACT_SOURCES := $(shell find contracts -name '*.sol' 2>/dev/null)

.PHONY: help bootstrap compile abi deploy test test-contracts test-pynode test-forge slither lint-sol lint-py demo gas bench soak lock clean

help:
	@sed -n 's/^#   //p' $(MAKEFILE_LIST)

$(VENV_STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "fabmesh needs Python 3.11, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Kubo from its Go module at the version pinned in ipfs/go.mod (see ipfs/README.md).
$(IPFS_BIN): ipfs/go.mod ipfs/go.sum
	mkdir -p $(@D)
	cd ipfs && go build -trimpath -o $@ github.com/ipfs/kubo/cmd/ipfs
	$@ version --all | sed -n 1,3p

# geth (the second EVM client the integration tests use) at the version pinned in tools/geth/go.mod.
$(GETH_BIN): tools/geth/go.mod tools/geth/go.sum
	mkdir -p $(@D)
	cd tools/geth && go build -trimpath -o $@ github.com/ethereum/go-ethereum/cmd/geth
	$@ version

# halmos in a venv of its own: its psutil and rich pins conflict with brownie's (tools/halmos/requirements.txt).
$(HALMOS_BIN): tools/halmos/requirements.txt
	$(PYTHON) -m venv $(TOOLS)/halmos
	$(TOOLS)/halmos/bin/pip install --quiet --disable-pip-version-check --no-deps -r $<
	touch $@

# OctoPrint (the octoprint adapter's integration tests) in a venv of its own: it pins Flask 3.0, Tornado 6.5,
# psutil 6.1 and rich 13 (tools/octoprint/requirements.txt); pynode talks to it over HTTP only.
$(OCTOPRINT_BIN): tools/octoprint/requirements.txt
	$(PYTHON) -m venv $(TOOLS)/octoprint
	$(TOOLS)/octoprint/bin/pip install --quiet --disable-pip-version-check --no-deps -r $<
	touch $@

$(SOLC_STAMP): $(NPM_STAMP) tools/install-solc.sh tools/solc-js-cli.js brownie-config.yaml
	tools/install-solc.sh $(SOLC_VERSION)
	touch $@

# Headless Chromium renders the auditor's HTML report in the tests (Debian's package).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "install Chromium at $@ (the audit report test renders in it)"; exit 1; }
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends chromium

# PrusaSlicer's command line slices STL/3MF designs for the octoprint adapter (Debian's prusa-slicer 2.5).
PRUSA_SLICER := /usr/bin/prusa-slicer
$(PRUSA_SLICER):
	@command -v apt-get >/dev/null || { echo "install PrusaSlicer at $@ (the octoprint adapter's slicing tests run it)"; exit 1; }
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends prusa-slicer

bootstrap: $(VENV_STAMP) $(NPM_STAMP) $(IPFS_BIN) $(GETH_BIN) $(SOLC_STAMP) $(CHROMIUM)

$(BUILD_STAMP): $(VENV_STAMP) $(SOLC_STAMP) $(CONTRACT_SOURCES) brownie-config.yaml
	brownie compile
	mkdir -p $(@D)
	$(SOLC_BIN) --version | sed -n 's/^Version: //p' > build/solc-version.txt
	@echo "compiled with solc $$(cat build/solc-version.txt) ($$(readlink -f $(SOLC_BIN)))"
	touch $@

compile: $(BUILD_STAMP)

# The ABIs pynode reads ship in the package (pynode/chain/abi/); a test fails while they lag the contracts.
abi: $(BUILD_STAMP)
	python scripts/export_abi.py

# A live-network deploy from a v3 keystore (see README "Deploying to a live network"); it compiles from
# the sources itself, so it needs the venv, OpenZeppelin from npm and the pinned solc, not build/.
deploy: $(VENV_STAMP) $(NPM_STAMP) $(SOLC_STAMP)
	python scripts/deploy.py $(ARGS)

slither: $(BUILD_STAMP)
	tools/slither.sh

# solhint over contracts/ (rules in .solhint.json; contracts/test/ is in .solhintignore); any warning fails.
# --disc: no update check over the network.
lint-sol: $(NPM_STAMP)
	solhint --disc --noPoster --max-warnings 0 'contracts/**/*.sol'

# Rules and strictness live in pyproject.toml. Every noqa names its rule and says why after it.
lint-py: $(VENV_STAMP)
	ruff check .
	mypy
	@! grep -rnE --include='*.py' '# noqa(: *[A-Z]+[0-9]+(, *[A-Z]+[0-9]+)*)? *$$' pynode bench scripts tests \
	  || { echo "a noqa above gives no reason"; exit 1; }

test-contracts: $(BUILD_STAMP)
	brownie test tests/contracts

# The forge invariant campaign on the v2 book and registry (100,000 calls, 0 violations), the same campaign
# failing on contracts/test/BrokenOrderBookV2.sol, the split's fuzzed properties and halmos' proof that the
# settlement split conserves value (forge from npm, halmos from its own venv, the pinned solc-js behind
# foundry.toml); writes bench/results/invariants.json.
test-forge: $(VENV_STAMP) $(NPM_STAMP) $(SOLC_STAMP) $(HALMOS_BIN)
	HALMOS=$(HALMOS_BIN) python tools/forge_campaign.py

# brownie's pytest plugin would start its own chain; pynode tests bring their own. Two workers: most
# integration tests wait on block times, and every process a test starts binds a port of its own, so two
# run side by side; a file stays on one worker (its module-scoped chains and runs are set up once).
test-pynode: bootstrap $(BUILD_STAMP) $(OCTOPRINT_BIN) $(PRUSA_SLICER)
	pytest -p no:pytest-brownie -n 2 --dist loadfile tests/pynode

# The contract suite (CPU-bound: brownie, hypothesis) and the pynode suite (mostly waiting on block times)
# run side by side on ports of their own, the forge campaign in whichever slot frees first; each one's
# output is printed whole when it ends.
test: bootstrap $(BUILD_STAMP) lint-py lint-sol slither
	$(MAKE) --no-print-directory -j2 --output-sync=target test-contracts test-pynode test-forge

demo: bootstrap $(BUILD_STAMP) $(OCTOPRINT_BIN)
	python -m pynode.dev.demo

# Gas of every user-facing function and the order lifecycle, beside OpenZeppelin baselines.
gas: $(BUILD_STAMP)
	python -m scripts.brownie_anvil run scripts/gas.py

# Speed and memory figures, side by side in one run: bench/results/latest.json.
bench: bootstrap $(BUILD_STAMP)
	python bench/vault_bench.py
	python bench/decode_bench.py
	python bench/audit_bench.py
	python bench/claim_bench.py
	python bench/rpc_bench.py
	python bench/cli_bench.py
	python bench/quote_bench.py
	python bench/quote_e2e_bench.py

# Load, crashes and an IPFS restart: 1,000 orders, 3 buyers, 5 daemons (see bench/soak.py for knobs,
# e.g. `make soak SOAK_ARGS="--orders 100"`). Not part of `make test`.
soak: bootstrap $(BUILD_STAMP)
	python bench/soak.py $(SOAK_ARGS)

# Regenerates requirements.lock from pyproject.toml (needs the registry).
lock: $(VENV_STAMP)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --override requirements.override \
	  -p 3.11 --no-header --annotation-style line -o requirements.lock

clean:
	rm -rf build reports .hypothesis
