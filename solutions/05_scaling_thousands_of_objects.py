# Solutions to chapter 05's exercises: try them yourself first.
#
# Each "# %% exercise N" section is an answer to exercise N (paste it over the exercise cell).
# Each "# %% exercise N wrong: ..." section is a plausible wrong answer, which the chapter's
# check must reject; the test suite runs both (tests/test_exercises.py).

# %% exercise 1
global_runs = frame[frame["design"] == "global-do"].sort_values("users")
behind = global_runs[global_runs["served_per_s"] < 0.95 * global_runs["offered_per_s"]]
gives_up_at = int(behind["users"].min())

# %% exercise 1 wrong: any shortfall at all (a run that ends with clicks in flight always serves a little less)
global_runs = frame[frame["design"] == "global-do"].sort_values("users")
gives_up_at = int(global_runs[global_runs["served_per_s"] < global_runs["offered_per_s"]]["users"].min())

# %% exercise 1 wrong: the last count at which it still kept up, one point too early
global_runs = frame[frame["design"] == "global-do"].sort_values("users")
keeping_up = global_runs[global_runs["served_per_s"] >= 0.95 * global_runs["offered_per_s"]]
gives_up_at = int(keeping_up["users"].max())

# %% exercise 2
# One object serves ~900 clicks/s: the busiest user must send more than ~45 % of 2,000/s, and a little
# more before the queue holds half a second.
too_hot = next(s for s in grid if hot_keys(s, duration=2.0)["busiest_p99_ms"] > 500)

# %% exercise 2 wrong: the first skew at which the busiest user is above the object's ~1,000/s soft limit on paper
too_hot = 1.75

# %% exercise 2 wrong: looks at everybody's p99, then picks the skew where it is highest
too_hot = max(grid, key=lambda s: hot_keys(s, duration=2.0)["all_p99_ms"])

# %% exercise 3
capacity_per_s = 1000 / 4.1      # one click at a time: 4 ms of CPU and ~0.1 ms of storage each

# %% exercise 3 wrong: Cloudflare's soft limit, whatever the object does per request
capacity_per_s = 1000

# %% exercise 3 wrong: charges the 4 ms once per storage operation (two per click)
capacity_per_s = 125
