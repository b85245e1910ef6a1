# The two commands of the README, and the steps they are made of.
.PHONY: run test tools build e2e bench

# Install what is missing, build the release site, and start Sightline on SQLite.
run: build
	./target/release/sightline serve --demo

# Every test: cargo tests on SQLite and PostgreSQL, then the browser tests.
test:
	scripts/test.sh

tools:
	scripts/install-tools.sh

build: tools
	scripts/build.sh

# Every benchmark in sequence (ingest, dashboard, export, tracker overhead); the
# SIGHTLINE_BENCH_* variables pass through, e.g. `make bench SIGHTLINE_BENCH_DATABASES=sqlite`.
bench:
	scripts/bench.sh
