# The README's two commands. Each installs what is missing (scripts/deps.sh is idempotent), builds, and runs.
#   make demo   — Release build, then orgctl on the example organization
#   make test   — Release build, then the whole test suite through ctest
# Also: make asan-test (tests under ASan+UBSan), make bench, make format / format-check, make clean.
PRESET ?= release
BUILD  := build/$(PRESET)
ORGCTL := $(BUILD)/tools/orgctl/orgctl
EXAMPLE ?= examples/acme

.PHONY: deps configure build demo test asan-test bench fuzz format format-check clean

deps:
	@bash scripts/deps.sh

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET)

demo: build
	$(ORGCTL) check examples/language-tour $(EXAMPLE)
	$(ORGCTL) run $(EXAMPLE)

test: build
	ctest --preset $(PRESET)

asan-test:
	@$(MAKE) --no-print-directory test PRESET=asan

bench:
	@$(MAKE) --no-print-directory build PRESET=release
	$(BUILD)/bench/orgos_bench

# Coverage-guided fuzzing of the front-end (docs/building.md, "Fuzzing"). FUZZ_SECONDS bounds the run;
# the corpus grows in build/fuzz/corpus, crashing inputs land in build/fuzz/findings/.
FUZZ_SECONDS ?= 600
fuzz:
	@bash scripts/deps.sh fuzz
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz --target fuzz_frontend
	@mkdir -p build/fuzz/corpus build/fuzz/findings
	@git ls-files '*.org' | while read f; do [ -f "$$f" ] && cp "$$f" "build/fuzz/corpus/seed-$$(echo "$$f" | tr / _)"; done
	build/fuzz/fuzz/fuzz_frontend build/fuzz/corpus fuzz/regressions -dict=fuzz/org.dict \
	  -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 \
	  -artifact_prefix=build/fuzz/findings/ -print_final_stats=1

format:
	@git ls-files '*.cpp' '*.h' | xargs clang-format -i

format-check:
	@git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run -Werror

clean:
	rm -rf build
