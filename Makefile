# Cosmiv — build, run and test.
#
#   make run        install what is missing, build, start http://127.0.0.1:8080
#   make test       install, build, run every test (unit, sanitizers, integration on
#                   SQLite and PostgreSQL + Redis, browser) and the coverage gate
#   make coverage   line/branch coverage per module (gcovr)
#   make fuzz       libFuzzer targets (clang): JSON validation, the JWT verifier, gateway frames
#   make lint       clang-format check, cppcheck, banned functions
#   make bench      benchmarks (bench/README.md); make bench-feed / bench-gateway for the feed / gateway benchmarks
#
# Build variants: build/cosmiv (release, -O2), build/cov/cosmiv (ASan + UBSan +
# gcov: the binary the test suites run, so every test is also a sanitizer run),
# build/tsan/cosmiv (ThreadSanitizer: the gateway suite, `make tsan`).

CC      ?= cc
PKGS    := libmicrohttpd jansson libsodium sqlite3 libpq hiredis libcurl libseccomp nettle \
           libavformat libavcodec libavfilter libswscale libswresample libavutil
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lwslay -lpthread -lm

WARN    := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral -Wno-missing-field-initializers
BASE    := -std=c11 -D_GNU_SOURCE -Isrc -Ibuild/gen $(WARN) $(PKG_CFLAGS) -MMD -MP
REL_CFLAGS := $(BASE) -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
COV_CFLAGS := $(BASE) -O0 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined --coverage
REL_LDFLAGS := -pie -Wl,-z,relro,-z,now
COV_LDFLAGS := -fsanitize=address,undefined --coverage

MEDIA_EXCLUDE :=
SRC      := $(filter-out src/main.c $(MEDIA_EXCLUDE),$(shell find src -name '*.c' | sort))
MIGR     := $(sort $(wildcard src/db/migrations/*.sql))
GEN      := build/gen/migrations.c
REL_OBJ  := $(SRC:%.c=build/rel/%.o) build/rel/gen/migrations.o
COV_OBJ  := $(SRC:%.c=build/cov/%.o) build/cov/gen/migrations.o
UNIT_SRC := $(shell find tests/unit -name 'test_*.c' 2>/dev/null | sort)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/cov/unit/%)

.PHONY: all build run test unit integration tsan e2e coverage coverage-report fuzz lint bench bench-feed bench-gateway deps web clean format

all: build
build: build/cosmiv

deps:
	@bash scripts/install-deps.sh

# ==== C ====

build/tools/embed: tools/embed.c
	@mkdir -p $(@D)
	$(CC) -O1 -Wall -Wextra -Werror -o $@ $<

$(GEN): build/tools/embed $(MIGR)
	@mkdir -p $(@D)
	build/tools/embed $@ $(MIGR)

build/rel/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) -c $< -o $@
build/rel/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) -c $< -o $@
build/cov/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(COV_CFLAGS) -c $< -o $@
build/cov/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(COV_CFLAGS) -c $< -o $@

build/rel/libcosmiv.a: $(REL_OBJ)
	ar rcs $@ $^
build/cov/libcosmiv.a: $(COV_OBJ)
	ar rcs $@ $^

build/cosmiv: build/rel/src/main.o build/rel/libcosmiv.a
	$(CC) $(REL_LDFLAGS) -o $@ $^ $(PKG_LIBS)
build/cov/cosmiv: build/cov/src/main.o build/cov/libcosmiv.a
	$(CC) $(COV_LDFLAGS) -o $@ $^ $(PKG_LIBS)

build/cov/unit/%: tests/unit/%.c build/cov/libcosmiv.a
	@mkdir -p $(@D)
	$(CC) $(COV_CFLAGS) -Itests/unit $(COV_LDFLAGS) -o $@ $< build/cov/libcosmiv.a $(PKG_LIBS) -lcmocka

# ThreadSanitizer build: the server whose gateway suite `make tsan` runs.
TSAN_CFLAGS := $(BASE) -O1 -g -fno-omit-frame-pointer -fsanitize=thread
TSAN_OBJ := $(SRC:%.c=build/tsan/%.o) build/tsan/gen/migrations.o
build/tsan/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(TSAN_CFLAGS) -c $< -o $@
build/tsan/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(TSAN_CFLAGS) -c $< -o $@
build/tsan/cosmiv: build/tsan/src/main.o $(TSAN_OBJ)
	$(CC) -fsanitize=thread -o $@ $^ $(PKG_LIBS)

# The detector models are embedded with .incbin, which -MMD cannot see.
build/rel/src/media/detect_model.o build/cov/src/media/detect_model.o build/tsan/src/media/detect_model.o: src/media/model.json src/media/model-openarena.json

-include $(shell find build -name '*.d' 2>/dev/null)

# ==== Web app ====

web/dist/index.html: $(shell find web/src web/index.html web/package.json web/vite.config.* 2>/dev/null)
	cd web && npm run build --silent

web: web/dist/index.html

# ==== Run ====

run: deps build web
	./build/cosmiv serve --data-dir ./data --listen $${COSMIV_LISTEN:-127.0.0.1:8080}

# ==== Tests ====

unit: build/cov/cosmiv $(UNIT_BIN)
	@bash tests/run-unit.sh $(UNIT_BIN)

integration: build/cov/cosmiv $(UNIT_BIN)
	@bash tests/run-integration.sh

e2e: build web
	@bash tests/run-e2e.sh

coverage-report:
	@bash tests/coverage.sh

# The gateway and communities suite on the ThreadSanitizer build, every fan-out split between the
# gateway's two threads (the suite sets COSMIV_GATEWAY_FLUSH_SPLIT=2); a race aborts the server and
# fails the suite.
tsan: build/tsan/cosmiv
	@echo "== ThreadSanitizer: gateway and communities =="
	@COSMIV_BIN=build/tsan/cosmiv TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	  node --test tests/integration/gateway/communities.test.mjs

test: deps
	@$(MAKE) --no-print-directory build build/cov/cosmiv $(UNIT_BIN) web
	@find build/cov -name '*.gcda' -delete
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory tsan
	@$(MAKE) --no-print-directory coverage-report
	@$(MAKE) --no-print-directory e2e
	@$(MAKE) --no-print-directory lint

coverage: deps
	@$(MAKE) --no-print-directory build/cov/cosmiv $(UNIT_BIN)
	@find build/cov -name '*.gcda' -delete
	@$(MAKE) --no-print-directory unit integration coverage-report

# ==== Fuzzing ====

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_LIB_SRC := src/core/util.c src/core/err.c src/core/jsonx.c src/auth/jwt.c
build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRC)
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=undefined $(PKG_CFLAGS) \
	  -o $@ $^ $(PKG_LIBS)

# The gateway's frame handler needs the whole library (auth, permissions, the bus).
build/fuzz/fuzz_gateway_frame: tests/fuzz/fuzz_gateway_frame.c $(SRC) $(GEN)
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -Isrc -Ibuild/gen -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=undefined $(PKG_CFLAGS) \
	  -o $@ $(filter %.c,$^) $(PKG_LIBS)

fuzz: $(FUZZ_BIN)
	@bash tests/fuzz/run.sh $(FUZZ_BIN)

# ==== Lint ====

lint:
	@bash scripts/lint.sh

format:
	clang-format -i $$(find src tests/unit tests/fuzz tools -name '*.[ch]')

bench: build
	@bash bench/http/run.sh

bench-feed: build
	@bash scripts/install-deps.sh bench
	@bash bench/feed/run.sh

bench-gateway: build
	@bash scripts/install-deps.sh bench
	@bash bench/gateway/run.sh

clean:
	rm -rf build web/dist
