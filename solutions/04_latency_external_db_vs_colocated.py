# Solutions to chapter 04's exercises: try them yourself first.
#
# Each "# %% exercise N" section is an answer to exercise N (paste it over the exercise cell).
# Each "# %% exercise N wrong: ..." section is a plausible wrong answer, which the chapter's
# check must reject; the test suite runs both (tests/test_exercises.py).

# %% exercise 1
def p95_with_database_in(region, seed=2):
    trace = simulate("external-db", spread, seed=seed, db_region=region)
    return quantiles(requests_frame(trace)).loc["external-db", "p95"]


def p50_with_database_in(region, seed=2):
    trace = simulate("external-db", spread, seed=seed, db_region=region)
    return quantiles(requests_frame(trace)).loc["external-db", "p50"]


best_for_p95 = min(candidates, key=p95_with_database_in)   # eastus: in the middle of everybody
best_for_p50 = min(candidates, key=p50_with_database_in)   # uksouth: beside the biggest group

# %% exercise 1 wrong: puts the database where most users are, for both
def p95_with_database_in(region, seed=2):
    trace = simulate("external-db", spread, seed=seed, db_region=region)
    return quantiles(requests_frame(trace)).loc["external-db", "p95"]


best_for_p95 = "westeurope"
best_for_p50 = "westeurope"

# %% exercise 1 wrong: the function measures the median, so the "p95" choice follows the p50
def p95_with_database_in(region, seed=2):
    trace = simulate("external-db", spread, seed=seed, db_region=region)
    return quantiles(requests_frame(trace)).loc["external-db", "p50"]


best_for_p95 = min(candidates, key=p95_with_database_in)
best_for_p50 = min(candidates, key=p95_with_database_in)

# %% exercise 1 wrong: the function ignores its seed (one run is not the behaviour)
def p95_with_database_in(region, seed=2):
    trace = simulate("external-db", spread, seed=2, db_region=region)
    return quantiles(requests_frame(trace)).loc["external-db", "p95"]


best_for_p95 = "eastus"
best_for_p50 = "uksouth"

# %% exercise 2
ops_needed = 5          # 5 × ~201 ms measured + 10 ms last mile > 1 s; 4 × 201 + 10 is about 815 ms

# %% exercise 2 wrong: divides one second by the physics bound (157 ms) instead of the measured round trip
ops_needed = 7

# %% exercise 2 wrong: forgets that the query count must push p50 *over* one second
ops_needed = 4

# %% exercise 3
good_hint = "enam"

# %% exercise 3 wrong: North America, but the west coast (a continent away from Virginia)
good_hint = "wnam"

# %% exercise 3 wrong: hints where the user was, not where the user went
good_hint = "apac"
