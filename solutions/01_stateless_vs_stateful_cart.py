# Solutions to chapter 01's exercises: try them yourself first.
#
# Each "# %% exercise N" section is an answer to exercise N (paste it over the exercise cell).
# Each "# %% exercise N wrong: ..." section is a plausible wrong answer, which the chapter's
# check must reject; the test suite runs both (tests/test_exercises.py).

# %% exercise 1
class MyCartWorker(WorkerEntrypoint):
    async def fetch(self, request):
        user = request.headers.get("x-user")
        stub = self.env.CART.getByName(user)
        return await stub.fetch(request)

# %% exercise 1 wrong: one cart for everybody
class MyCartWorker(WorkerEntrypoint):
    async def fetch(self, request):
        user = request.headers.get("x-user")
        stub = self.env.CART.getByName("cart")
        return await stub.fetch(request)

# %% exercise 1 wrong: a new object for every request
class MyCartWorker(WorkerEntrypoint):
    async def fetch(self, request):
        user = request.headers.get("x-user")
        stub = self.env.CART.get(self.env.CART.newUniqueId())
        return await stub.fetch(request)

# %% exercise 2
class DatabaseCart(WorkerEntrypoint):
    async def fetch(self, request):
        user = request.headers.get("x-user")
        rows = await self.env.DB.query("SELECT count FROM carts WHERE user = ?", user)
        count = (rows[0][0] if rows else 0) + 1
        await self.env.DB.query("INSERT OR REPLACE INTO carts VALUES (?, ?)", user, count)
        return Response.json({"count": count, "message": f"{count} item(s) in cart"})

# %% exercise 2 wrong: reads and adds, but never writes the new count back
class DatabaseCart(WorkerEntrypoint):
    async def fetch(self, request):
        user = request.headers.get("x-user")
        rows = await self.env.DB.query("SELECT count FROM carts WHERE user = ?", user)
        count = (rows[0][0] if rows else 0) + 1
        return Response.json({"count": count, "message": f"{count} item(s) in cart"})

# %% exercise 2 wrong: one row for everybody
class DatabaseCart(WorkerEntrypoint):
    async def fetch(self, request):
        rows = await self.env.DB.query("SELECT count FROM carts WHERE user = 'shop'")
        count = (rows[0][0] if rows else 0) + 1
        await self.env.DB.query("INSERT OR REPLACE INTO carts VALUES ('shop', ?)", count)
        return Response.json({"count": count, "message": f"{count} item(s) in cart"})

# %% exercise 3
slowest_click = 1
because = "uniqueness"

# %% exercise 3 wrong: the first click is slow, but not because of the network
slowest_click = 1
because = "network"

# %% exercise 3 wrong: thinks carts slow down as they fill up
slowest_click = 3
because = "storage"
