# Solutions to chapter 02's exercises: try them yourself first.
#
# Each "# %% exercise N" section is an answer to exercise N (paste it over the exercise cell).
# Each "# %% exercise N wrong: ..." section is a plausible wrong answer, which the chapter's
# check must reject; the test suite runs both (tests/test_exercises.py).

# %% exercise 1
class LimitedCart(DurableObject):
    async def count(self, sku):
        return (await self.ctx.storage.get(sku)) or 0

    async def add(self, sku):
        price = await self.env.CATALOG.getByName("catalog").price(sku)   # the outside call first
        count = (await self.ctx.storage.get(sku)) or 0                 # then read, check and write:
        if count >= 3:                                                 # only storage awaits in between
            return {"added": False}
        self.ctx.storage.put(sku, count + 1)
        return {"added": True, "price": price}

# %% exercise 1 wrong: the price lookup sits between the read and the write
class LimitedCart(DurableObject):
    async def count(self, sku):
        return (await self.ctx.storage.get(sku)) or 0

    async def add(self, sku):
        count = (await self.ctx.storage.get(sku)) or 0
        if count >= 3:
            return {"added": False}
        price = await self.env.CATALOG.getByName("catalog").price(sku)
        self.ctx.storage.put(sku, count + 1)
        return {"added": True, "price": price}

# %% exercise 1 wrong: reads with allowConcurrency, so the reads overlap
class LimitedCart(DurableObject):
    async def count(self, sku):
        return (await self.ctx.storage.get(sku)) or 0

    async def add(self, sku):
        price = await self.env.CATALOG.getByName("catalog").price(sku)
        count = (await self.ctx.storage.get(sku, {"allowConcurrency": True})) or 0
        if count >= 3:
            return {"added": False}
        self.ctx.storage.put(sku, count + 1)
        return {"added": True, "price": price}

# %% exercise 1 wrong: forgets the limit
class LimitedCart(DurableObject):
    async def count(self, sku):
        return (await self.ctx.storage.get(sku)) or 0

    async def add(self, sku):
        price = await self.env.CATALOG.getByName("catalog").price(sku)
        count = (await self.ctx.storage.get(sku)) or 0
        self.ctx.storage.put(sku, count + 1)
        return {"added": True, "price": price}

# %% exercise 2
predictions = {
    "put awaited": "error",
    "put not awaited": "error",
    "put with allowUnconfirmed": "added",
}

# %% exercise 2 wrong: thinks a put that is not awaited escapes the output gate
predictions = {
    "put awaited": "error",
    "put not awaited": "added",
    "put with allowUnconfirmed": "added",
}

# %% exercise 2 wrong: thinks allowUnconfirmed still holds the reply
predictions = {
    "put awaited": "error",
    "put not awaited": "error",
    "put with allowUnconfirmed": "error",
}

# %% exercise 3
LIMITED_ADD = "UPDATE carts SET n = n + 1 WHERE user = ? AND n < 10 RETURNING n"


class LimitedDatabaseCart(WorkerEntrypoint):
    async def add(self, user):
        rows = await self.env.DB.query(LIMITED_ADD, user)
        return rows[0][0] if rows else "full"

# %% exercise 3 wrong: no limit at all
LIMITED_ADD = "UPDATE carts SET n = n + 1 WHERE user = ? RETURNING n"

# %% exercise 3 wrong: caps the count, but tells every add it succeeded
LIMITED_ADD = "UPDATE carts SET n = MIN(n + 1, 10) WHERE user = ? RETURNING n"

# %% exercise 3 wrong: off by one, lets an eleventh item in
LIMITED_ADD = "UPDATE carts SET n = n + 1 WHERE user = ? AND n <= 10 RETURNING n"
