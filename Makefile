# The README's two commands. Each installs what is missing (scripts/deps.sh is idempotent), builds, and runs.
#   make demo   — Release build, then orgctl on the example organization
#   make test   — Release build, then the whole test suite through ctest
# Also: make asan-test (tests under ASan+UBSan), make bench, make format / format-check, make clean.
PRESET ?= release
BUILD  := build/$(PRESET)
ORGCTL := $(BUILD)/tools/orgctl/orgctl
EXAMPLE ?= examples/acme90

.PHONY: deps configure build demo test asan-test bench format format-check clean

deps:
	@bash scripts/deps.sh

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET)

demo: build
	$(ORGCTL) check $(EXAMPLE)
	$(ORGCTL) run $(EXAMPLE)

test: build
	ctest --preset $(PRESET)

asan-test:
	@$(MAKE) --no-print-directory test PRESET=asan

bench:
	@$(MAKE) --no-print-directory build PRESET=release
	$(BUILD)/bench/orgos_bench

format:
	@git ls-files '*.cpp' '*.h' | xargs clang-format -i

format-check:
	@git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run -Werror

clean:
	rm -rf build
