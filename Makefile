# Top-level entry points. `make` builds, `make devnet` installs dependencies, builds and runs the
# whole cluster on this machine (spacetime devnet; DEVNET_FLAGS="--miners 2" passes flags), `make
# test` installs dependencies, builds and runs every test (plain and ASan+UBSan, then the
# multi-host cluster of tests/hosts once, on the plain build), `make test-cluster` runs only that
# one (as root: it makes network namespaces and sshfs mounts), `make fuzz` runs each libFuzzer
# target, `make bench` runs bench/.
JOBS      ?= $(shell nproc)
FUZZ_SECS ?= 60
DEVNET_FLAGS ?=
FUZZ_TARGETS := fuzz_cbor fuzz_address fuzz_cid fuzz_rleplus fuzz_proofs fuzz_registry fuzz_chain_types fuzz_rpc fuzz_market fuzz_cluster

.PHONY: all build deps devnet test test-plain test-asan test-cluster test-cluster-run fuzz bench clean

all: build

build:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build -j $(JOBS)

deps:
	scripts/install-deps.sh

devnet: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build -j $(JOBS) --target spacetime spacetime-server spacetime-miner
	build/spacetime devnet $(DEVNET_FLAGS)

test: deps
	$(MAKE) test-plain
	$(MAKE) test-asan
	$(MAKE) test-cluster-run

test-plain: build
	ctest --test-dir build --output-on-failure -j $(JOBS)

test-asan:
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DST_SANITIZE=ON >/dev/null
	cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir build-asan --output-on-failure -j $(JOBS)

# The seed's cluster across hosts (tests/hosts/test_hosts.sh): five faults, each reported in
# epochs. Not in ctest: it runs alone, with 1 s epochs, and takes about 5 minutes.
test-cluster: deps build
	$(MAKE) test-cluster-run

test-cluster-run: build
	tests/hosts/test_hosts.sh build/spacetime

fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DST_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j $(JOBS) --target $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t; \
	  echo "== $$t ($(FUZZ_SECS) s)"; \
	  UBSAN_OPTIONS=halt_on_error=1 build-fuzz/fuzz/$$t -max_total_time=$(FUZZ_SECS) -print_final_stats=1 \
	    -artifact_prefix=build-fuzz/$$t- build-fuzz/corpus/$$t fuzz/corpus/$$t >build-fuzz/$$t.log 2>&1; \
	  rc=$$?; \
	  grep -E 'DONE|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)|ERROR|SUMMARY' build-fuzz/$$t.log; \
	  if [ $$rc -ne 0 ]; then echo "$$t failed (exit $$rc): see build-fuzz/$$t.log, reproducer build-fuzz/$$t-*"; exit 1; fi; \
	done

bench: deps
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build-bench -j $(JOBS) --target bench_codec bench_poseidon bench_ipld spacetime-bench spacetime-server spacetime spacetime-miner st_flood
	build-bench/bench/bench_codec
	build-bench/bench/bench_poseidon
	build-bench/bench/bench_ipld
	build-bench/spacetime-bench seal --sector-size 2KiB
	build-bench/spacetime-bench seal --sector-size 8MiB
	build-bench/spacetime-bench window-post --sector-size 8MiB --sectors 64 --parallel 8
	build-bench/spacetime-bench winning-post --sector-size 8MiB
	build-bench/spacetime-bench unseal --sector-size 8MiB
	bench/registry.sh build-bench/spacetime-server
	bench/cluster_claims.sh build-bench/spacetime-server
	build-bench/spacetime-bench apply
	bench/daemon.sh build-bench/spacetime
	POSTERS=2 bench/poster.sh build-bench/spacetime
	bench/poster_nfs.sh build-bench/spacetime

clean:
	rm -rf build build-asan build-fuzz build-bench
