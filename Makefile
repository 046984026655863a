# clae: `make run` sets up, builds and trains the reference autoencoder;
# `make test` sets up, builds and runs the test suites.

CC ?= cc
PKGS = OpenCL clblast zlib libcjson libpng cairo
CFLAGS ?= -O2 -g
CLAE_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -DCL_TARGET_OPENCL_VERSION=120 -Wall -Wextra -Iinclude -Isrc \
	$(shell pkg-config --cflags $(PKGS)) \
	-DCLAE_CLBLAST_VERSION='"$(shell pkg-config --modversion clblast)"'
# libcsv has no pkg-config file.
LIBS = $(shell pkg-config --libs $(PKGS)) -lcsv -lm
TEST_LIBS = $(shell pkg-config --libs cmocka)

B = build
FASHION = /usr/share/datasets/fashion-mnist
LIB_SRC = $(wildcard src/*.c)
# clae train across MPI ranks (README, Training on several processes): with
# mpicc on the PATH (Debian's libopenmpi-dev) clae links Open MPI through
# src/cli/replicas/mpi.c, the one file that includes mpi.h; without it, or
# with `make MPICC=`, src/cli/replicas/single.c, under which a process
# trains alone. Both builds put their objects in one $(B): the choice only
# swaps that file and the link flags. The flags come from Open MPI's
# wrapper (--showme; MPICH's mpicc calls it -compile-info/-link-info).
MPICC ?= $(shell command -v mpicc)
ifneq ($(strip $(MPICC)),)
REPLICAS = mpi
MPI_CFLAGS = $(shell $(MPICC) --showme:compile)
MPI_LIBS = $(shell $(MPICC) --showme:link)
else
REPLICAS = single
endif
CLI_SRC = $(wildcard src/cli/*.c) src/cli/replicas/replica.c \
	src/cli/replicas/$(REPLICAS).c
CL_SRC = $(wildcard cl/*.cl)
TEST_SRC = $(wildcard tests/test_*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(B)/%.o) $(B)/cl_sources.o
CLI_OBJ = $(CLI_SRC:%.c=$(B)/%.o)
TESTS = $(TEST_SRC:tests/%.c=$(B)/tests/%)
# The shared library's objects: position-independent, in their own tree so
# that libclae.a and the binaries stay as they are.
PIC_OBJ = $(LIB_OBJ:$(B)/%=$(B)/pic/%)
# The version is include/clae.h's CLAE_VERSION_STRING; the soname keeps its
# major number.
VERSION := $(shell sed -n 's/.*define CLAE_VERSION_STRING "\(.*\)".*/\1/p' \
	include/clae.h)
SONAME = libclae.so.$(firstword $(subst ., ,$(VERSION)))
SHARED = $(B)/libclae.so.$(VERSION) $(B)/$(SONAME) $(B)/libclae.so
REF_OBJ = $(patsubst %.c,$(B)/%.o,$(wildcard tests/ref/*.c))

# Debian packages that `make deps` installs when missing; `make bench` adds
# the PyTorch side.
DEBIAN_PACKAGES = gcc make pkg-config ocl-icd-opencl-dev opencl-headers \
	pocl-opencl-icd libclblast-dev libcmocka-dev zlib1g-dev libcjson-dev libcsv-dev libpng-dev libcairo2-dev fonts-dejavu-core \
	dataset-fashion-mnist clinfo oclgrind python3-numpy libopenmpi-dev \
	openmpi-bin
BENCH_PACKAGES = python3-torch python3-numpy libopenblas0-pthread

.PHONY: all deps run test check bench bench-conv bench-mpi clean install \
	uninstall
# Keep the objects of the chained test rules (no rebuilds every run).
.SECONDARY:
all: $(B)/libclae.a $(SHARED) $(B)/clae $(B)/clae-devices

deps:
	@sh tools/deps.sh $(DEBIAN_PACKAGES)

run: deps
	@$(MAKE) --no-print-directory all
	$(B)/clae train --epochs 10 --save $(B)/reference.safetensors \
		--metrics $(B)/reference-metrics.csv
	$(B)/clae reconstruct --load $(B)/reference.safetensors \
		--out $(B)/reconstructions.png
	$(B)/clae plot --metrics $(B)/reference-metrics.csv --out $(B)/loss.png
	$(B)/clae plot-codes --load $(B)/reference.safetensors \
		--labels $(FASHION)/t10k-labels-idx1-ubyte.gz --out $(B)/codes.png

test: deps
	@$(MAKE) --no-print-directory check

check: all $(B)/bench-gemm $(TESTS) $(B)/libclfault.so
	@sh tests/run.sh $(TESTS)

# clae against PyTorch on this machine; prints the report for BENCHMARKS.md.
bench: deps
	@sh tools/deps.sh $(BENCH_PACKAGES)
	@$(MAKE) --no-print-directory all $(B)/bench-gemm
	/usr/bin/python3 tools/bench.py

# The conv preset against PyTorch: one round of two epochs each (about 5
# minutes here), the second epoch timed.
bench-conv: deps
	@sh tools/deps.sh $(BENCH_PACKAGES)
	@$(MAKE) --no-print-directory all
	/usr/bin/python3 tools/bench.py --presets-only --presets conv --rounds 1 \
		--epochs 2

# clae train across 2 MPI ranks against 1 process with 1 and with all PoCL
# threads (tools/bench-mpi.py): the reference job (3 rounds) and the conv
# preset (one epoch), about 2 minutes here.
bench-mpi: deps
	@$(MAKE) --no-print-directory all
	/usr/bin/python3 tools/bench-mpi.py

$(B)/%.o: %.c $(wildcard include/*.h src/*.h tests/ref/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CLAE_CFLAGS) -c $< -o $@

# The command line's objects also depend on its own headers.
$(CLI_OBJ): $(wildcard src/cli/*.h src/cli/replicas/*.h)

$(B)/src/cli/replicas/mpi.o: src/cli/replicas/mpi.c $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CLAE_CFLAGS) $(MPI_CFLAGS) -c $< -o $@

# The suites also include the shared test headers (test_util.h, test_run.h).
$(TEST_SRC:%.c=$(B)/%.o): $(wildcard tests/*.h)

$(B)/cl_sources.c: $(CL_SRC) tools/embed-cl.sh
	@mkdir -p $(B)
	sh tools/embed-cl.sh $(CL_SRC) > $@.tmp && mv $@.tmp $@

$(B)/cl_sources.o: $(B)/cl_sources.c src/program.h
	$(CC) $(CFLAGS) $(CLAE_CFLAGS) -c $< -o $@

$(B)/libclae.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/pic/%.o: %.c $(wildcard include/*.h src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CLAE_CFLAGS) -fPIC -c $< -o $@

$(B)/pic/cl_sources.o: $(B)/cl_sources.c src/program.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CLAE_CFLAGS) -fPIC -c $< -o $@

# The library exports the public API only: the public headers' functions
# are clae_<name>, the library's internal ones clae__<name>, and the version
# script keeps the former. --no-undefined: it names every library it needs.
$(B)/libclae.map: Makefile
	@mkdir -p $(B)
	printf '{ global: clae_[a-z0-9]*; local: *; };\n' > $@

$(B)/libclae.so.$(VERSION): $(PIC_OBJ) $(B)/libclae.map
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined \
		-Wl,--version-script=$(B)/libclae.map -o $@ $(PIC_OBJ) $(LIBS)

$(B)/$(SONAME) $(B)/libclae.so: $(B)/libclae.so.$(VERSION)
	ln -sf libclae.so.$(VERSION) $@

$(B)/clae: $(CLI_OBJ) $(B)/libclae.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS) $(MPI_LIBS)

$(B)/clae-devices: $(B)/tools/clae-devices.o $(B)/libclae.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(B)/bench-gemm: $(B)/tools/bench-gemm.o $(B)/libclae.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/%: $(B)/tests/%.o $(REF_OBJ) $(B)/libclae.a
	$(CC) $(CFLAGS) -o $@ $^ $(TEST_LIBS) $(LIBS)

# The fault injector that tests/fault/sweep.sh preloads into clae: it makes
# each OpenCL and CLBlast call site fail once in turn (tests/fault/clfault.c).
$(B)/libclfault.so: tests/fault/clfault.c tests/fault/wrappers.c \
		tests/fault/clfault.h
	$(CC) $(CFLAGS) $(CLAE_CFLAGS) -fPIC -shared -o $@ tests/fault/clfault.c \
		tests/fault/wrappers.c -ldl -lpthread

clean:
	rm -rf $(B)

# make install PREFIX=/usr/local DESTDIR=...: the libraries, the header,
# clae.pc, the two programs and the man pages of man/. The kernels are in
# the library (build/cl_sources.c), so nothing else is read at run time.
# make uninstall with the same PREFIX and DESTDIR removes those files and
# leaves the directories.
PREFIX = /usr/local
DESTDIR =
BINDIR = $(PREFIX)/bin
LIBDIR = $(PREFIX)/lib
INCLUDEDIR = $(PREFIX)/include
MAN1DIR = $(PREFIX)/share/man/man1
MAN1 = $(wildcard man/*.1)
# clae.h and clae_opencl.h (for a host application's own OpenCL context).
HEADERS = $(wildcard include/*.h)
# clae.pc: libcsv has no pkg-config file, so it is in Libs.private.
PC_LINES = 'prefix=$(PREFIX)' 'exec_prefix=$${prefix}' \
	'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' 'Name: clae' \
	'Description: Train autoencoders on any OpenCL device' \
	'Version: $(VERSION)' 'Requires.private: $(PKGS)' \
	'Libs: -L$${libdir} -lclae' 'Libs.private: -lcsv -lm' \
	'Cflags: -I$${includedir}'

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR) $(if $(MAN1),$(DESTDIR)$(MAN1DIR))
	install -m 755 $(B)/clae $(B)/clae-devices $(DESTDIR)$(BINDIR)
	install -m 644 $(B)/libclae.a $(DESTDIR)$(LIBDIR)
	install -m 755 $(B)/libclae.so.$(VERSION) $(DESTDIR)$(LIBDIR)
	ln -sf libclae.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libclae.so
	install -m 644 $(HEADERS) $(DESTDIR)$(INCLUDEDIR)
	printf '%s\n' $(PC_LINES) > $(DESTDIR)$(LIBDIR)/pkgconfig/clae.pc
	$(if $(MAN1),install -m 644 $(MAN1) $(DESTDIR)$(MAN1DIR))

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/clae $(DESTDIR)$(BINDIR)/clae-devices \
		$(DESTDIR)$(LIBDIR)/libclae.a \
		$(DESTDIR)$(LIBDIR)/libclae.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libclae.so \
		$(HEADERS:include/%=$(DESTDIR)$(INCLUDEDIR)/%) \
		$(DESTDIR)$(LIBDIR)/pkgconfig/clae.pc \
		$(MAN1:man/%=$(DESTDIR)$(MAN1DIR)/%)

# ===== Sanitizers, valgrind, static analysis and fuzzing ====================
# Each target installs what it is missing (as `make test` does). test-asan
# and the fuzz targets build into their own directories under $(B) (asan/,
# fuzz/), so the normal build beside them is untouched; valgrind and lint
# use the normal build. `make clean` removes them all.

# Debian packages of these targets: gcc's ASan and UBSan runtimes (test-asan),
# valgrind, the linters, and clang with its compiler-rt (libFuzzer) for fuzz.
ASAN_PACKAGES = libasan8 libubsan1
VALGRIND_PACKAGES = valgrind
LINT_PACKAGES = cppcheck clang-tidy python3
FUZZ_PACKAGES = clang libclang-rt-14-dev
SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

# make test-asan: the library, clae, clae-devices and every suite built with
# ASan and UBSan into $(ASAN_B), every suite run on PoCL (tests/asan/run.sh
# says how and what each costs). ASAN_SUITES picks some: ASAN_SUITES=test_data.
ASAN_B = $(B)/asan
ASAN_CFLAGS = -O1 -g $(SANITIZE)
ASAN_SUITES = $(TEST_SRC:tests/%.c=%)

.PHONY: test-asan
test-asan: deps
	@sh tools/deps.sh $(ASAN_PACKAGES)
	@$(MAKE) --no-print-directory B=$(ASAN_B) CFLAGS="$(ASAN_CFLAGS)" \
		$(ASAN_B)/clae $(ASAN_B)/clae-devices \
		$(ASAN_SUITES:%=$(ASAN_B)/tests/%)
	@sh tests/asan/run.sh $(ASAN_B) $(ASAN_SUITES)

# make fuzz: a libFuzzer target per parser (tests/fuzz/fuzz_*.c: IDX plain
# and gzip, .npy, CSV, model files, model specs), built with clang into
# $(FUZZ_B) with ASan and UBSan, each run FUZZ_SECONDS from its seed corpus
# in tests/fuzz/corpus/<target>/ (tests/fuzz/run.sh; new inputs go to
# $(FUZZ_B)/corpus/, crashes to tests/fuzz/regressions/<target>/).
# make fuzz-ci: the same for FUZZ_CI_SECONDS each; make fuzz-regressions:
# every target over its saved crashes, once. FUZZ_TARGETS picks some.
FUZZ_B = $(B)/fuzz
CLANG = clang
FUZZ_CFLAGS = -O1 -g $(SANITIZE) -fsanitize=fuzzer-no-link
FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS = 60
FUZZ_CI_SECONDS = 25

.PHONY: fuzz-build fuzz fuzz-ci fuzz-regressions
fuzz-build: deps
	@sh tools/deps.sh $(FUZZ_PACKAGES)
	@$(MAKE) --no-print-directory B=$(FUZZ_B) CC=$(CLANG) \
		CFLAGS="$(FUZZ_CFLAGS)" $(FUZZ_TARGETS:%=$(FUZZ_B)/%)

fuzz: fuzz-build
	@sh tests/fuzz/run.sh fuzz $(FUZZ_B) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-ci: fuzz-build
	@sh tests/fuzz/run.sh fuzz $(FUZZ_B) $(FUZZ_CI_SECONDS) $(FUZZ_TARGETS)

fuzz-regressions: fuzz-build
	@sh tests/fuzz/run.sh replay $(FUZZ_B) 0 $(FUZZ_TARGETS)

# A fuzz target, linked with libFuzzer (built by fuzz-build's make, whose
# $(B) is $(FUZZ_B) and $(CC) clang).
$(B)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(B)/libclae.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(CLAE_CFLAGS) -o $@ $< $(B)/libclae.a \
		$(LIBS)

# A fuzz target with tests/fuzz/replay.c's main instead of libFuzzer, on
# the normal build (make valgrind runs these over the corpora).
$(B)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/replay.c tests/fuzz/fuzz.h \
		$(B)/libclae.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CLAE_CFLAGS) -o $@ $< tests/fuzz/replay.c \
		$(B)/libclae.a $(LIBS)

# make valgrind: memcheck (--error-exitcode=1 --leak-check=full) over the
# suites of host code and the fuzz targets' replays of their corpora, on
# the normal build (tests/valgrind/run.sh says which and why).
VALGRIND_SUITES = test_data test_formats
# Every fuzz target but fuzz_model, which needs a device (test_data's model
# file tests cover that loader under memcheck).
VALGRIND_FUZZ = $(filter-out fuzz_model,$(FUZZ_TARGETS))

.PHONY: valgrind
valgrind: deps
	@sh tools/deps.sh $(VALGRIND_PACKAGES)
	@$(MAKE) --no-print-directory $(VALGRIND_SUITES:%=$(B)/tests/%) \
		$(VALGRIND_FUZZ:%=$(B)/fuzz-replay/%)
	@sh tests/valgrind/run.sh $(B) "$(VALGRIND_SUITES)" "$(VALGRIND_FUZZ)"

# make lint: cppcheck and clang-tidy (checks in .clang-tidy) over src/,
# src/cli/ and src/cli/replicas/, failing on any finding that tests/lint/accepted does not accept
# with a reason (tests/lint/run.py; reports in $(B)/lint/).
.PHONY: lint
lint: deps
	@sh tools/deps.sh $(LINT_PACKAGES)
	@/usr/bin/python3 tests/lint/run.py $(B) $(CLAE_CFLAGS) $(MPI_CFLAGS)
