# Solutions to chapter 03's exercises: try them yourself first.
#
# Each "# %% exercise N" section is an answer to exercise N (paste it over the exercise cell).
# Each "# %% exercise N wrong: ..." section is a plausible wrong answer, which the chapter's
# check must reject; the test suite runs both (tests/test_exercises.py).

# %% exercise 1
wrong_on_laptop = {"cookie"}

# %% exercise 1 wrong: forgets that the laptop's cache entry expired during the 90 s
wrong_on_laptop = {"cookie", "cached-db"}

# %% exercise 1 wrong: forgets that the cookie lives in the phone
wrong_on_laptop = set()

# %% exercise 2
bea_object_near = "phone"

# %% exercise 2 wrong: thinks the object follows where most requests come from
bea_object_near = "laptop"

# %% exercise 3
priced = monthly_bills(usage, Month(users=1_000_000, clicks_per_user=30, database_usd=0.0))
totals = {row["design"]: row["total_usd"] for row in priced}
break_even_usd = totals["do-per-user"] - totals["external-db"]

# %% exercise 3 wrong: the objects' whole bill, forgetting that the database design pays the Workers lines too
priced = monthly_bills(usage, Month(users=1_000_000, clicks_per_user=30, database_usd=0.0))
break_even_usd = next(row["total_usd"] for row in priced if row["design"] == "do-per-user")

# %% exercise 3 wrong: reads the gap off the chapter's bills, which were for 100,000 users, not a million
totals = {row["design"]: row["total_usd"] - row["database_usd"] for row in bills}
break_even_usd = totals["do-per-user"] - totals["external-db"]
