# litevirt.uksm developer entry points. `make demo` and `make test` are the two README commands.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
BUILD := $(CURDIR)/build
# ansible-test needs the collection at ansible_collections/<namespace>/<name>
STAGE := $(BUILD)/src/ansible_collections/litevirt/uksm
COLLECTIONS := $(BUILD)/collections
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := $(BUILD)/dist/litevirt-uksm-$(VERSION).tar.gz
# ansible-test bootstraps pip with a script it downloads from a host outside the package registries
GET_PIP := $(HOME)/.ansible/test/cache/get_pip_24_2.py
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)

.PHONY: setup build stage demo test sanity lint units integration molecule changelog docs clean bench \
  docs-lint docs-site release-check

setup: $(VENV)/.stamp $(GET_PIP)
	@scripts/setup-host.sh

$(VENV)/.stamp: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(GET_PIP): tests/tools/get_pip_offline.py
	mkdir -p $(dir $@)
	cp $< $@

# The collection as users get it: built into a tarball, installed from that tarball.
build: setup
	rm -rf $(BUILD)/dist $(COLLECTIONS)
	$(BIN)/ansible-galaxy collection build --output-path $(BUILD)/dist .
	$(BIN)/ansible-galaxy collection install --offline --force -p $(COLLECTIONS) $(TARBALL)

# A copy of the working tree (tracked and new files, ignores respected) for ansible-test and ansible-lint.
stage:
	rm -rf $(STAGE)
	mkdir -p $(STAGE)
	git ls-files -z --cached --others --exclude-standard | \
	  while IFS= read -r -d '' f; do if [ -e "$$f" ]; then cp --parents -P "$$f" $(STAGE)/; fi; done
	# ansible-test lists files with git; without a repository of its own the stage would inherit
	# this one, where build/ is ignored
	cd $(STAGE) && git init -q && git add -A

demo: build
	tests/demo/run.sh

test: setup build sanity lint changelog docs-lint docs-site release-check units integration molecule
	@echo "make test: all suites passed"

sanity: setup stage
	cd $(STAGE) && ansible-test sanity --venv --python 3.11 --requirements --color no

lint: setup stage
	cd $(STAGE) && ansible-lint --profile production --strict

units: setup stage
	cd $(STAGE) && PYTHONPATH=$(BUILD)/src python -m pytest -q -p no:cacheprovider tests/unit

integration: setup build stage
	cd $(STAGE) && ansible-test integration --local --python 3.11 --color no

# A real kernel in a QEMU guest (tests/vm), rebooted: extensions/molecule/real_kernel.
molecule: setup build stage
	@start=$$(date +%s); cd $(STAGE) && molecule test -s real_kernel; \
	  status=$$?; echo "molecule real_kernel: $$(( $$(date +%s) - start )) s, exit $$status"; exit $$status

docs: setup stage
	PYTHONPATH=$(BUILD)/src python tests/tools/gen_knob_reference.py docs/knob-reference.md

changelog: setup
	antsibull-changelog lint

# The collection docs as the Ansible docsite renders them: plugin and role docs (schema, markup,
# references) and the scenario guides of docs/docsite.
docs-lint: setup
	antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs .

# The HTML docs site (antsibull-docs + Sphinx, warnings are errors) of the collection installed
# from its tarball: $(BUILD)/docsite/index.html
docs-site: setup build
	scripts/docs-site.sh $(BUILD)/docsite-src $(BUILD)/docsite

# The release tarball: no development files, installs offline into an empty collections path,
# ansible-doc lists every plugin and the role, ansible-builder create works (scripts/release-check.sh).
release-check: setup
	scripts/release-check.sh $(BUILD)/release-check

# Benchmark, not a test (README, Performance): simulated hosts, interleaved repeated runs, medians and ratios;
# writes $(BUILD)/bench/results.json. BENCH_GUEST=1 adds the same cases over SSH to the QEMU guest;
# BENCH_CASES=facts,tunable runs only those (and ping) while profiling.
BENCH_HOSTS ?= 50
BENCH_RUNS ?= 5
BENCH_GUEST ?=
BENCH_CASES ?=
bench: setup build
	python tests/bench/bench.py --hosts $(BENCH_HOSTS) --runs $(BENCH_RUNS) --output $(BUILD)/bench/results.json \
	  $(if $(filter 1 yes true,$(BENCH_GUEST)),--guest) $(if $(BENCH_CASES),--cases $(BENCH_CASES))

clean:
	-tests/simhost/cleanup.sh $(BUILD) 2>/dev/null
	rm -rf $(BUILD) $(VENV) tests/output
