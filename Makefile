# Developer entry points. `make test` is what CI runs (.ci/run).
GO ?= go
BIN := bin/kubectl-psp_migrate

.PHONY: build web test lint unit e2e example bench release-check fuzz clean

# The CLI embeds the browser converter that `make web` builds (web/dist).
build: web
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/kubectl-psp_migrate

# The browser converter (docs/web.md): a folder any static host serves, in
# bin/web, and the files the CLI embeds for `kubectl psp-migrate web`.
web:
	bash hack/web.sh bin/web

# The whole suite: static checks, unit tests (and again under -race),
# end-to-end tests against a real kube-apiserver, and the release check for
# this machine's platform. Installs what it needs on first run, at the
# versions of hack/versions.env.
test:
	bash hack/test.sh

# Static checks only: gofmt, go vet, go mod tidy -diff, staticcheck, shellcheck.
lint:
	bash hack/lint.sh

# Unit tests only: no cluster, no tool builds.
unit:
	$(GO) test ./...

# End-to-end tests only, against real API servers and engine CLIs (built on
# first run). E2E_RUN=REGEX selects tests: make e2e E2E_RUN=TestLeastPrivilege
e2e:
	bash hack/e2e.sh

# The main job on the bundled example, no cluster needed.
example:
	$(GO) run ./cmd/kubectl-psp_migrate audit -f examples/cluster.yaml

# Every fuzz target for a minute, keeping what it finds (`make test` gives
# each 3 seconds).
fuzz:
	FUZZ_KEEP=1 bash hack/fuzz.sh 60s

bench:
	bash hack/bench.sh

# The full release rehearsal: goreleaser snapshot for all six platforms,
# krew manifests, install through kubectl krew. `make test` runs the same for
# this machine's platform only (hack/release-check.sh --host-only).
release-check:
	bash hack/release-check.sh

clean:
	rm -rf bin dist web/dist/main.wasm.gz web/dist/wasm_exec.js
