# Solutions to chapter 10's exercises: try them yourself first.
#
# Each "# %% exercise N" section is an answer to exercise N (paste it over the exercise cell).
# Each "# %% exercise N wrong: ..." section is a plausible wrong answer, which the chapter's
# check must reject; the test suite runs both (tests/test_exercises.py).

# %% exercise 1
def budget_key(order):
    return order.room          # the rule is per room: one ledger sees all of a room's orders

# %% exercise 1 wrong: one ledger per company holds every room, but the biggest company overloads it
def budget_key(order):
    return order.tenant

# %% exercise 1 wrong: one ledger per buyer sees only that buyer's share of the room's orders
def budget_key(order):
    return order.user

# %% exercise 2
def my_shard(like):
    return f"{like.post}/{zlib.crc32(like.user.encode()) % 10}"     # 10 shards: about 500 likes/s each

# %% exercise 2 wrong: shards by post, so every like of this post still reaches one object
def my_shard(like):
    return f"{like.post}/{zlib.crc32(like.post.encode()) % 10}"

# %% exercise 2 wrong: 4 shards for 5,000 likes a second, more than 1,000 each
def my_shard(like):
    return f"{like.post}/{zlib.crc32(like.user.encode()) % 4}"

# %% exercise 3
idle_bill_1m_carts = (1_000_000 * many.stored_per_object / 1e9 - 5) * 0.20   # GB beyond the 5 included, $0.20 each

# %% exercise 3 wrong: counts duration too, as if the idle carts stayed in memory all month
idle_bill_1m_carts = idle_bill(1_000_000, many.stored_per_object, hibernate=False).total

# %% exercise 3 wrong: forgets the 5 GB-month included in Workers Paid
idle_bill_1m_carts = 1_000_000 * many.stored_per_object / 1e9 * 0.20

# %% exercise 3 wrong: bills this machine's memory per evicted object instead of the stored data
idle_bill_1m_carts = max(0.0, 1_000_000 * many.rss_per_evicted / 1e9 - 5) * 0.20
