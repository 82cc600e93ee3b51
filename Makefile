# docker-credential-acr — see README.md.
PREFIX ?= /usr/local
SWIFT ?= swift
RELEASE_FLAGS := -c release --static-swift-stdlib
BINARY = $(shell $(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/docker-credential-acr

.PHONY: all build deps test demo install uninstall clean

all: build

build:
	$(SWIFT) build $(RELEASE_FLAGS) --product docker-credential-acr

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

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BINARY) $(DESTDIR)$(PREFIX)/bin/docker-credential-acr

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/docker-credential-acr

clean:
	rm -rf .build
