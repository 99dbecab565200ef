# Solutions to chapter 00's exercises: try them yourself first.
#
# Each "# %% exercise N" section is an answer to exercise N (paste it over the exercise cell).
# Each "# %% exercise N wrong: ..." section is a plausible wrong answer, which the chapter's
# check must reject; the test suite runs both (tests/test_exercises.py).

# %% exercise 1
lab1 = Lab(durable_objects={"CART": Cart}, seed=0)
carol = lab1.env.CART.getByName("carol")
await carol.add(10)
lab1.evict_all()
carol_after_evict = await carol.add(0)

# %% exercise 1 wrong: types the number instead of reading it back from the object
lab1 = Lab(durable_objects={"CART": Cart}, seed=0)
carol = lab1.env.CART.getByName("carol")
await carol.add(5)
lab1.evict_all()
carol_after_evict = 10

# %% exercise 1 wrong: reads the count before adding
lab1 = Lab(durable_objects={"CART": Cart}, seed=0)
carol = lab1.env.CART.getByName("carol")
carol_after_evict = await carol.add(0)
await carol.add(10)
lab1.evict_all()

# %% exercise 2
constructions = 3

# %% exercise 2 wrong: every call constructs the object
constructions = 4

# %% exercise 2 wrong: one object, constructed once
constructions = 1
