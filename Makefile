# docker-credential-acr — see README.md.
PREFIX ?= /usr/local
SWIFT ?= swift
RELEASE_FLAGS := -c release --static-swift-stdlib
BIN_PATH = $(shell $(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)
BINARY = $(BIN_PATH)/docker-credential-acr

.PHONY: all build deps test demo bench install uninstall clean

all: build

# Both binaries: docker-credential-acr, and the docker-credential-acr-engine it hands cold work to.
build:
	$(SWIFT) build $(RELEASE_FLAGS)

deps:
	@Scripts/install-deps.sh

# Unit tests, the Azure emulator's own check, then integration tests of the release binary; the Swift
# and integration tests each in a private keyring session of their own.
test: deps build
	$(SWIFT) build --build-tests
	Scripts/with-keyring.sh $(SWIFT) test --skip-build
	Tests/Emulator/selftest.sh
	Scripts/with-keyring.sh Tests/Integration/run.sh $(BINARY)

# A walk through the main job: docker login, pull, logout against a local registry and a private keyring.
demo: deps build
	Scripts/with-keyring.sh Scripts/demo.sh $(BINARY)

# Measurements against secret-tool, Docker's own secretservice helper and the Azure emulator, in a private
# keyring session: Markdown tables on stdout and in bench/results.md (see Scripts/bench.sh).
bench: deps build
	Scripts/with-keyring.sh Scripts/bench.sh $(BINARY)

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/docker-credential-acr
	install -m 755 $(BINARY) $(DESTDIR)$(PREFIX)/bin/docker-credential-acr
	install -m 755 $(BIN_PATH)/docker-credential-acr-engine $(DESTDIR)$(PREFIX)/libexec/docker-credential-acr/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/docker-credential-acr
	rm -rf $(DESTDIR)$(PREFIX)/libexec/docker-credential-acr

clean:
	rm -rf .build
