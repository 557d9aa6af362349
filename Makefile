# Convenience targets; the scripts in infra/ are the real thing (and say why they do what they do).
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

DDB_PORT ?= 8000
MOTO_PORT ?= 5055

.PHONY: help run test ci ddb-local ddb-local-stop moto moto-stop lint-template package bench

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

run: ## run the whole system in one process (leenkies-local, memory store, http://127.0.0.1:3000)
	cargo run --bin leenkies-local

test: ## THE test command: template lint, cargo test, scenario replays on both stores
	./infra/test.sh

ci: ## what CI runs: fmt check, clippy -D warnings, then infra/test.sh
	bash .ci/run

ddb-local: ## start DynamoDB Local on DDB_PORT (default 8000); then: cargo run --bin leenkies-local -- --dynamodb-endpoint http://127.0.0.1:8000
	./infra/dynamodb-local.sh start $(DDB_PORT)

ddb-local-stop: ## stop the DynamoDB Local started by ddb-local
	./infra/dynamodb-local.sh stop $(DDB_PORT)

moto: ## start moto (SES v2 stand-in) on MOTO_PORT (default 5055)
	./infra/moto.sh start $(MOTO_PORT)

moto-stop: ## stop the moto started by moto
	./infra/moto.sh stop $(MOTO_PORT)

lint-template: ## cfn-lint + sam validate --lint on template.yaml (installs the tools if missing)
	. infra/lib.sh && ensure_pytools && \
	cfn-lint template.yaml && \
	SAM_CLI_TELEMETRY=0 sam validate --lint --template template.yaml --region $${AWS_REGION:-us-east-1}

package: ## build the template's six arm64 Lambda zips with cargo-lambda and print their sizes
	./infra/package.sh

bench: ## run infra/bench.sh (if present)
	@if [ -x infra/bench.sh ]; then ./infra/bench.sh; \
	elif [ -f infra/bench.sh ]; then bash infra/bench.sh; \
	else echo "infra/bench.sh does not exist yet"; fi
