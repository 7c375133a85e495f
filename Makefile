# arm64-runners — every command sets itself up (venv + pip) on first use; `make help` lists the commands.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= mixed
FORMAT ?= text
TIMEOUT ?= 900
#: The Pulumi CLI version this project is tested with (README, "Your first stack", installs this one).
PULUMI_VERSION := 3.272.0
export PYTHONDONTWRITEBYTECODE := 1
# GitHub's OpenAPI description, the reference the fake GitHub API is checked against (tests/fakes/openapi.py).
OPENAPI_VERSION := 23.0.2
OPENAPI := build/openapi/api.github.com.json

.PHONY: help venv openapi plan cloud-init new-stack deployer-policy test unit lint e2e emulation-test bench bench-boot \
        bench-wake wake-test \
        preview up destroy remint refresh-image status wait-online validate gc clean

help: ## this list
	@grep -E '^[a-z0-9][a-z0-9-]*:.*## ' $(firstword $(MAKEFILE_LIST)) | \
		awk -F ':.*## ' '{ printf "  make %-16s %s\n", $$1, $$2 }'

# Commands that drive the Pulumi CLI stop here, with one line, when it is missing.
PULUMI_GOALS := preview up destroy remint refresh-image
ifneq ($(filter $(PULUMI_GOALS),$(MAKECMDGOALS)),)
ifeq ($(shell command -v pulumi),)
$(error make $(filter $(PULUMI_GOALS),$(MAKECMDGOALS)) needs the Pulumi CLI: curl -fsSL https://get.pulumi.com | sh -s -- --version $(PULUMI_VERSION) (README: Your first stack))
endif
endif

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed ## create .venv with runtime and dev dependencies

# The policy pack runs in its own venv (pulumi preview --policy-pack policy installs nothing).
policy/venv/.installed: policy/requirements.txt
	$(PYTHON) -m venv policy/venv
	policy/venv/bin/pip install --quiet --disable-pip-version-check -r policy/requirements.txt
	touch $@

plan: $(VENV)/.installed ## offline plan of STACK (default: mixed) as FORMAT
	@$(PY) -m tools.plan --stack $(STACK) --format $(FORMAT)

cloud-init: $(VENV)/.installed ## write each instance's rendered user-data to build/cloud-init/STACK/
	@$(PY) -m tools.plan --stack $(STACK) --cloud-init-dir build/cloud-init/$(STACK)

new-stack: $(VENV)/.installed ## write stacks/Pulumi.NAME.yaml: NAME= OWNER= REPO=|ORG=1 CLOUD=aws|oci|emulated|mixed
	@$(PY) -m tools.new_stack --name "$(NAME)" --owner "$(OWNER)" --cloud "$(CLOUD)" \
		$(if $(REPO),--repo "$(REPO)") $(if $(filter 1 true yes,$(ORG)),--organization) \
		$(if $(REGION),--region "$(REGION)") $(if $(COMPARTMENT),--compartment "$(COMPARTMENT)") \
		$(if $(ESC),--esc-environment "$(ESC)")

deployer-policy: $(VENV)/.installed ## IAM policy (and OCI statements) for whoever runs pulumi up/destroy on STACK
	@$(PY) -m tools.deployer_policy --stack $(STACK) $(if $(GROUP),--oci-group "$(GROUP)")

test: $(VENV)/.installed lint unit ## the test suite CI runs (unit + mock engine + validators + lint)

unit: $(VENV)/.installed $(OPENAPI) ## the unit suite only (no lint)
	$(PY) -m pytest -q -m "not e2e and not emulation"

$(OPENAPI):
	@command -v npm >/dev/null || { echo "make: npm is needed to fetch @octokit/openapi (apt-get install npm)"; exit 1; }
	mkdir -p $(@D)
	cd $(@D) && npm pack --silent @octokit/openapi@$(OPENAPI_VERSION) >/dev/null \
	  && tar -xzf octokit-openapi-$(OPENAPI_VERSION).tgz --strip-components=2 package/generated/api.github.com.json \
	  && rm -f octokit-openapi-$(OPENAPI_VERSION).tgz

openapi: $(OPENAPI) ## fetch GitHub's OpenAPI description (the fake GitHub API's reference)

lint: $(VENV)/.installed ## ruff check, ruff format --check, mypy components
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy components

e2e: $(VENV)/.installed ## boot real cloud-init on arm64 Debian under QEMU (root; slow on first run)
	$(PY) -m tests.e2e.preflight e2e
	$(PY) -m pytest -q -m e2e tests/e2e

emulation-test: $(VENV)/.installed ## prove emulated pools run jobs as aarch64 (root; builds a cached arm64 tree once)
	$(PY) -m tests.e2e.preflight emulation
	$(PY) -m tests.emulation.harness build
	$(PY) -m pytest -q -m emulation tests/emulation

bench: $(VENV)/.installed ## plan time per example stack vs the provider-SDK import floor
	$(PY) -m tools.bench

bench-boot: $(VENV)/.installed ## cloud-init start -> READY vs an empty boot, user-data sizes
	$(PY) -m tools.bench_boot

bench-wake: $(VENV)/.installed ## wake handler time, request -> StartInstances (moto, p50/p99 over 200 deliveries)
	$(PY) -m tools.bench_wake

# --- with the Pulumi CLI and credentials -------------------------------------------------------
preview: $(VENV)/.installed policy/venv/.installed ## pulumi preview for STACK with the policy pack
	pulumi preview --stack $(STACK) --policy-pack policy

up: $(VENV)/.installed policy/venv/.installed ## pulumi up --refresh for STACK (heals lost runners), then wait until online
	pulumi up --refresh --stack $(STACK) --policy-pack policy
	$(MAKE) wait-online STACK=$(STACK)

destroy: $(VENV)/.installed ## pulumi destroy for STACK, then check GitHub holds none of its runners
	pulumi destroy --stack $(STACK)
	$(PY) -m tools.ops status --stack $(STACK) --expect-none

remint: $(VENV)/.installed ## replace a runner's registration (new token) and its instance: RUNNER=<runner name>
	pulumi up --stack $(STACK) --replace "$$($(PY) -m tools.urns --stack $(STACK) registration $(RUNNER))"

refresh-image: $(VENV)/.installed ## move STACK's pools to the newest upstream image (replaces instances)
	pulumi up --stack $(STACK) $$($(PY) -m tools.urns --stack $(STACK) image-pins --as-replace-flags)

wake-test: $(VENV)/.installed ## send a signed synthetic queued job to STACK's wake function (starts a stopped runner)
	$(PY) -m tools.wake_test --stack $(STACK)

status: $(VENV)/.installed ## STACK's runners as GitHub sees them
	$(PY) -m tools.ops status --stack $(STACK)

wait-online: $(VENV)/.installed ## exit 0 once every runner of STACK is online (TIMEOUT seconds)
	$(PY) -m tools.ops wait-online --stack $(STACK) --timeout $(TIMEOUT)

validate: $(VENV)/.installed ## dispatch WORKFLOW with INPUTS on STACK's runners, write a go/no-go report
	$(PY) -m tools.ops validate --stack $(STACK) --workflow "$(WORKFLOW)" --inputs "$(INPUTS)"

gc: $(VENV)/.installed ## remove STACK's offline runners GitHub still lists (ALL=1: also idle-stopped hosts')
	$(PY) -m tools.ops gc --stack $(STACK) $(if $(ALL),--include-stopped)

clean: ## remove build/ and the tools' caches
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
