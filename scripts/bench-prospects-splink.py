#!/usr/bin/env python3
"""Splink (DuckDB backend) on the prospects benchmark file: the standard model a Splink user
would write for person records — light cleaning in SQL, blocking on email, phone, full name and
family name + team, Jaro-Winkler name comparisons with term-frequency adjustments, exact email /
phone / team, u by random sampling, m by EM — then connected components at a probability.

usage: bench-prospects-splink.py PEOPLE.csv CLUSTERS.csv [MATCH_PROBABILITY]
writes record_id,entity_id
"""
import logging
import sys
import time

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

people, out = sys.argv[1], sys.argv[2]
threshold = float(sys.argv[3]) if len(sys.argv) > 3 else 0.9
logging.getLogger("splink").setLevel(logging.WARNING)
t0 = time.time()

con = duckdb.connect()
con.execute(
    f"""
    CREATE TABLE people AS SELECT
        id,
        NULLIF(regexp_replace(lower(trim(first_name)), '[^a-z]', '', 'g'), '') AS first_name,
        NULLIF(regexp_replace(lower(trim(last_name)), '[^a-z]', '', 'g'), '') AS last_name,
        NULLIF(lower(trim(email)), '') AS email,
        NULLIF(right(regexp_replace(phone, '[^0-9]', '', 'g'), 10), '') AS phone,
        NULLIF(lower(trim(team_id)), '') AS team_id
    FROM read_csv('{people}', header = true, all_varchar = true)
    """
)
db = DuckDBAPI(con)
settings = SettingsCreator(
    link_type="dedupe_only",
    unique_id_column_name="id",
    blocking_rules_to_generate_predictions=[
        block_on("email"),
        block_on("phone"),
        block_on("first_name", "last_name"),
        block_on("last_name", "team_id"),
    ],
    comparisons=[
        cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
        cl.ExactMatch("email"),
        cl.ExactMatch("phone"),
        cl.ExactMatch("team_id"),
    ],
    retain_intermediate_calculation_columns=False,
    retain_matching_columns=False,
)
linker = Linker(db.register("people"), settings)
linker.training.estimate_probability_two_random_records_match([block_on("email"), block_on("phone")], recall=0.6)
linker.training.estimate_u_using_random_sampling(max_pairs=5e6)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "last_name"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("email"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
t1 = time.time()
pred = linker.inference.predict(threshold_match_probability=0.5)
clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, threshold)
con.execute(f"COPY (SELECT id AS record_id, cluster_id AS entity_id FROM {clusters.physical_name}) TO '{out}' (HEADER)")
t2 = time.time()
print(f"splink: training {t1 - t0:.1f}s, predict+cluster {t2 - t1:.1f}s", file=sys.stderr)
