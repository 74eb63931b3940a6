# Developer entry points. `make test` is what CI runs (.ci/run).
GO ?= go
BIN := bin/kubectl-psp_migrate

.PHONY: build test unit e2e example bench release-check fuzz clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/kubectl-psp_migrate

# The whole suite: static checks, unit and end-to-end tests against a real
# kube-apiserver, and the release check. Installs what it needs on first run.
test:
	bash hack/test.sh

# Unit tests only: no cluster, no tool builds.
unit:
	$(GO) test ./...

# The main job on the bundled example, no cluster needed.
example:
	$(GO) run ./cmd/kubectl-psp_migrate audit -f examples/cluster.yaml

# Each fuzz target for a minute (not part of `make test`).
fuzz:
	$(GO) test ./pkg/manifest -run '^$$' -fuzz FuzzDecode -fuzztime 60s
	$(GO) test ./pkg/psp -run '^$$' -fuzz FuzzValidate -fuzztime 60s
	$(GO) test ./pkg/translate -run '^$$' -fuzz FuzzCompile -fuzztime 60s

bench:
	bash hack/bench.sh

release-check:
	bash hack/release-check.sh

clean:
	rm -rf bin dist
