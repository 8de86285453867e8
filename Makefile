# litevirt.uksm developer entry points. `make demo` and `make test` are the two README commands.
# The gates themselves are nox sessions (noxfile.py, antsibull-nox.toml); these targets name them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
BUILD := $(CURDIR)/build
COLLECTIONS := $(BUILD)/collections
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := $(BUILD)/dist/litevirt-uksm-$(VERSION).tar.gz
export PATH := $(BIN):$(PATH)
# Ansible's own state (collections ansible-lint installs, molecule's and ansible-playbook's temporary
# files, the galaxy cache) stays in the clone, where `make clean` removes it, never in ~/.ansible.
export ANSIBLE_HOME ?= $(BUILD)/ansible-home
# nox keeps one virtual environment per session in .nox and reuses it while its Python fits;
# CI=true makes the formatters check instead of rewriting (`make format` rewrites); no colour codes in logs.
NOX := CI=true NO_COLOR=1 PY_COLORS=0 nox --no-color --reuse-venv=yes
# The gates `make test` runs one after the other are nox's default sessions, in the noxfile's order (`nox -l`
# marks them), ansible-test's of every release in noxfile.py's CORES; the QEMU guest (molecule) runs beside them.

.PHONY: setup build demo try try-down test format lint extra-checks docs-check ansible-lint build-import-check tooling sanity units component \
  readme-try-it integration docs-site release-check molecule docs bench payload clean

setup: $(VENV)/.stamp
	@scripts/setup-host.sh

$(VENV)/.stamp: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

# The collection as users get it: built into a tarball, installed from that tarball (demo, bench).
build: setup
	rm -rf $(BUILD)/dist $(COLLECTIONS)
	$(BIN)/ansible-galaxy collection build --output-path $(BUILD)/dist .
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/ansible-galaxy collection install --offline --force -p $(COLLECTIONS) $(TARBALL)

demo: build
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) tests/demo/run.sh

# The README's "Try it": simulated hypervisors under build/try with an inventory (tests/demo/try.sh).
try: build
	tests/demo/try.sh up

try-down:
	tests/demo/try.sh down

# The QEMU guest is the longest gate and keeps about one core busy (TCG), the other gates about one and
# a half: neither fills a 2-core machine, so the guest runs beside the others (with an Ansible home of
# its own); its log is printed when both are done, and each says how long it took. The last lines name
# every session that failed and repeat the end of its output and its last failed Ansible task
# (tests/tools/gate_summary.py): CI shows only the tail.
MOLECULE_LOG := $(BUILD)/molecule.log
GATES_LOG := $(BUILD)/gates.log
test: setup
	@scripts/setup-host.sh --pythons
	@echo "make test: 20 to 45 minutes on an idle 2-core machine (DEVELOPMENT.md, How long each stage takes); as root it needs"\
	  "FUSE and QEMU, which make setup installed; the QEMU guest (molecule) runs beside the other gates,"\
	  "its log in $(MOLECULE_LOG)"
	@mkdir -p $(BUILD); start=$$(date +%s); \
	  ( ANSIBLE_HOME=$(BUILD)/ansible-home-molecule $(NOX) --sessions molecule > $(MOLECULE_LOG) 2>&1; \
	    echo "$$? $$(( $$(date +%s) - start ))" > $(MOLECULE_LOG).status ) & \
	  $(NOX) 2>&1 | tee $(GATES_LOG); status=$${PIPESTATUS[0]}; \
	  gates="$$(( $$(date +%s) - start )) s, exit $$status"; \
	  wait; cat $(MOLECULE_LOG); read -r mstatus mtime < $(MOLECULE_LOG).status; \
	  $(BIN)/python tests/tools/gate_summary.py $(GATES_LOG) $(MOLECULE_LOG); \
	  echo "make test: the other gates $$gates; molecule $$mtime s, exit $$mstatus;" \
	    "all $$(( $$(date +%s) - start )) s"; \
	  [ "$$status" -eq 0 ] && [ "$$mstatus" -eq 0 ]

format: setup
	nox --reuse-venv=yes --sessions formatters

lint extra-checks docs-check ansible-lint build-import-check tooling component readme-try-it docs-site release-check: setup
	$(NOX) --sessions $@

# ansible-test of every release (the sessions' tags)
sanity integration: setup
	$(NOX) --tags $@

# unit tests with coverage, then the per-file coverage gate
units: setup
	$(NOX) --sessions ansible-test-units coverage

# A real kernel in a QEMU guest (tests/vm), rebooted: extensions/molecule/real_kernel. One at a time:
# every run uses the same guest name and SSH port.
molecule: setup
	$(NOX) --sessions molecule

# The knob reference, written from the knob model of the built collection (a unit test fails while it is stale).
docs: build
	PYTHONPATH=$(COLLECTIONS) python tests/tools/gen_knob_reference.py docs/knob-reference.md docs/docsite/rst/knob-reference.rst

# Benchmark, not a test (README, Performance): simulated hosts, interleaved repeated runs, medians and ratios;
# writes $(BUILD)/bench/results.json. BENCH_GUEST=1 adds the same cases over SSH to the QEMU guest;
# BENCH_CASES=facts,tunable runs only those (and ping) while profiling; BENCH_HOSTS=0 skips the simulated
# hosts (the guest or the scale case alone). The scale case (BENCH_CASES=scale
# alone) runs the report, the rollout's summary step and the filters at BENCH_SCALE_SIZES plain-directory
# hosts; BENCH_SCALE_FORKS=2,10 also times the report at the largest size with those forks.
BENCH_HOSTS ?= 50
BENCH_RUNS ?= 5
BENCH_GUEST ?=
BENCH_CASES ?=
BENCH_SCALE_SIZES ?= 100,300,1000
BENCH_SCALE_FORKS ?=
bench: setup build
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) python tests/bench/bench.py --hosts $(BENCH_HOSTS) --runs $(BENCH_RUNS) --output $(BUILD)/bench/results.json \
	  $(if $(filter 1 yes true,$(BENCH_GUEST)),--guest) $(if $(BENCH_CASES),--cases $(BENCH_CASES)) \
	  --scale-sizes $(BENCH_SCALE_SIZES) $(if $(BENCH_SCALE_FORKS),--scale-forks $(BENCH_SCALE_FORKS))

# What each module carries to the host in its payload and compiles there at a run (tests/bench/payload.py).
payload: setup build
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) python tests/bench/payload.py

# Everything the setup, the build and the gates created in the clone (git status --ignored is empty
# after it); the documented caches outside it stay (DEVELOPMENT.md, Caches).
clean:
	-tests/simhost/cleanup.sh $(BUILD) 2>/dev/null
	rm -rf --one-file-system $(BUILD) $(VENV) .nox .ruff_cache .mypy_cache .hypothesis .pytest_cache .ansible tests/output \
	  changelogs/.plugin-cache.yaml
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
