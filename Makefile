# SPDX-License-Identifier: Apache-2.0
# The project's entry points. Each target is a thin call into CMake or a script under test/ or
# hack/; the scripts say what they do.
SHELL := /bin/bash
.DEFAULT_GOAL := build

BUILD        ?= build
ASAN_BUILD   ?= build/asan
FUZZ_BUILD   ?= build/fuzz
JOBS         ?= $(shell nproc)
CMAKE_FLAGS  ?=
GENERATOR    := -G Ninja
export PATH  := /usr/local/go/bin:$(PATH)

.PHONY: deps build build-asan build-fuzz test test-unit test-netns test-cluster test-images \
        test-fuzz bench demo demo-down cluster-up cluster-down images kind-up kind-deploy \
        e2e-kind format format-check clean

deps:
	bash hack/deps.sh

# Release build: build/bin/akrobateo-operator and build/bin/nftlb.
build:
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# The same code with AddressSanitizer + UndefinedBehaviorSanitizer; every test runs on it.
build-asan:
	cmake -S . -B $(ASAN_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DAKROBATEO_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

build-fuzz:
	CXX=clang++ cmake -S . -B $(FUZZ_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DAKROBATEO_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Every test: unit, fuzz (bounded), netns data path, container images, control-plane end to end.
test: deps format-check
	$(MAKE) test-unit test-fuzz test-netns test-images test-cluster

test-unit: build-asan
	cd $(ASAN_BUILD) && ctest -L unit --output-on-failure

test-fuzz: build-fuzz
	bash test/fuzz/run.sh $(FUZZ_BUILD)

test-netns: build-asan
	cd $(ASAN_BUILD) && ctest -L netns --verbose

test-images: build
	bash test/images/run.sh

test-cluster: build-asan
	AKROBATEO_BIN=$(abspath $(ASAN_BUILD))/bin bash test/cluster/e2e.sh

bench: deps build
	bash test/bench/run.sh

demo: deps build
	bash test/demo/demo.sh

demo-down:
	bash test/demo/demo.sh down

cluster-up:
	bash test/cluster/cluster.sh up

cluster-down:
	bash test/cluster/cluster.sh down

images:
	bash hack/images.sh

kind-up:
	bash test/e2e/kind.sh up

kind-deploy:
	bash test/e2e/kind.sh deploy

e2e-kind:
	bash test/e2e/kind.sh all

FORMAT_FILES = $(shell git ls-files '*.cc' '*.h' '*.cpp' '*.hpp')
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@if [ -n "$(FORMAT_FILES)" ]; then clang-format --dry-run -Werror $(FORMAT_FILES); fi

clean:
	rm -rf $(BUILD)
