#!/usr/bin/env bash
# CI step of its own: Spark 3.5 + Delta 3.2 (pyspark and delta-spark from PyPI, jars from Maven
# Central, cached in ~/.cache/echolake) read the lake's tables, run OPTIMIZE, ADD COLUMNS and the
# change data feed on them, and the lake writes on. Kept out of `npm test`: the install is ~350 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
node --import tsx test/services/cli.ts run -- node --import tsx --test test/spark/lake-spark.test.ts
