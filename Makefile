# Plausch: `make run` starts a server on http://localhost:8080, `make test`
# runs every test. Both build the browser app first.

GO          ?= go
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
ADDR        ?= :8080

.PHONY: run build web test test-go test-web e2e lint bench fuzz fuzz-ci soak sample-media clean deb deb-check

# The browsers of `make run` are on this machine, at its private addresses.
run: build
	./bin/plausch serve --addr $(ADDR) --ice-allow-private

build: web
	$(GO) build -o bin/plausch ./cmd/plausch

# The Debian package, built by nfpm from the Go module proxy at a pinned
# version (nothing else is downloaded): dist/plausch_VERSION_amd64.deb.
NFPM    := $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.46.3
VERSION ?= 0.0.0+git$(shell git rev-parse --short HEAD)

deb: web
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o bin/plausch ./cmd/plausch
	mkdir -p dist
	cd packaging && PLAUSCH_VERSION=$(VERSION) $(NFPM) package --packager deb --config nfpm.yaml --target ../dist/
	@ls -l dist/*.deb

# CI: install the package on this machine, run what it installed, remove it.
deb-check: deb
	dpkg -i dist/plausch_$(VERSION)_amd64.deb
	plausch version
	test -f /etc/plausch/plausch.env && test -f /lib/systemd/system/plausch.service
	dpkg -r plausch
	! command -v plausch

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund

web: web/node_modules/.package-lock.json
	cd web && npm run build

test: web lint test-go fuzz-ci test-web e2e

lint:
	@test -z "$$(gofmt -l cmd internal)" || (echo "gofmt needed:"; gofmt -l cmd internal; exit 1)
	$(GO) vet ./...
	$(STATICCHECK) ./...

test-go: web
	$(GO) test -race -count=1 ./...

test-web: web/node_modules/.package-lock.json
	cd web && npm run typecheck && npm test

e2e: build
	cd web && npm run e2e

# Forwarding benchmark: packets per second through one publisher to N
# subscribers, allocations per packet.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./internal/sfu/

FUZZTIME ?= 60s

# Every decoder of client input, and the media path (forwarding, layer
# choice, rewriting), fuzzed; new finds land in the Go cache, copy them to
# testdata/fuzz to keep them.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./internal/signal/
	$(GO) test -run '^$$' -fuzz FuzzNormalize -fuzztime $(FUZZTIME) ./internal/names/
	$(GO) test -run '^$$' -fuzz FuzzHandleOffer -fuzztime $(FUZZTIME) ./internal/sfu/
	$(GO) test -run '^$$' -fuzz FuzzParseVP8 -fuzztime $(FUZZTIME) ./internal/sfu/
	$(GO) test -run '^$$' -fuzz FuzzMediaPath -fuzztime $(FUZZTIME) ./internal/sfu/

# 20 participants joining and leaving for PLAUSCH_SOAK (10m); goroutines and
# memory must return to their baseline. Not part of make test.
soak:
	PLAUSCH_SOAK=$${PLAUSCH_SOAK:-10m} $(GO) test -tags soak -run TestSoak -v -count=1 -timeout 30m ./internal/server/

# The same, briefly, as part of make test.
# Counts, not durations: a run cut off by its deadline in the middle of an
# input reports a false failure ("context deadline exceeded").
fuzz-ci:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 200000x ./internal/signal/
	$(GO) test -run '^$$' -fuzz FuzzNormalize -fuzztime 200000x ./internal/names/
	$(GO) test -run '^$$' -fuzz FuzzHandleOffer -fuzztime 1500x ./internal/sfu/
	$(GO) test -run '^$$' -fuzz FuzzParseVP8 -fuzztime 200000x ./internal/sfu/
	$(GO) test -run '^$$' -fuzz FuzzMediaPath -fuzztime 20000x ./internal/sfu/

# The bundled sample media (committed; this documents how it was made).
sample-media:
	ffmpeg -y -f lavfi -i testsrc=size=320x180:rate=15 -t 4 -c:v libvpx -deadline realtime -cpu-used 8 -g 15 -b:v 120k internal/sample/video-q.ivf
	ffmpeg -y -f lavfi -i testsrc=size=640x360:rate=15 -t 4 -c:v libvpx -deadline realtime -cpu-used 8 -g 15 -b:v 300k internal/sample/video-h.ivf
	ffmpeg -y -f lavfi -i testsrc=size=1280x720:rate=15 -t 4 -c:v libvpx -deadline realtime -cpu-used 8 -g 15 -b:v 700k internal/sample/video-f.ivf
	ffmpeg -y -f lavfi -i sine=frequency=440:sample_rate=48000 -t 4 -c:a libopus -page_duration 20000 -b:a 24k internal/sample/audio.ogg

clean:
	rm -rf bin internal/web/dist/assets internal/web/dist/index.html internal/web/dist/manifest.webmanifest
